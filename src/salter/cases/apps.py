from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "salter.cases"
    label = "cases"
    verbose_name = "Cases"
