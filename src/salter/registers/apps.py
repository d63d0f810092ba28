from django.apps import AppConfig


class RegistersConfig(AppConfig):
    name = "salter.registers"
    label = "registers"
    verbose_name = "Demo registers"
