from django.apps import AppConfig


class AuthoritiesConfig(AppConfig):
    name = "salter.authorities"
    label = "authorities"
    verbose_name = "Authorities"
