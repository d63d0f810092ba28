from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "salter.cases"
    label = "cases"
    verbose_name = "Cases"

    def ready(self) -> None:
        # The check that every key a published definition uses has an app that handles it,
        # and the engine's periodic jobs (salter.core.clock).
        from salter.cases import checks, tasks  # noqa: F401
