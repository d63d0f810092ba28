from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "salter.core"
    label = "core"
    verbose_name = "Šalter core"

    def ready(self) -> None:
        from salter.core import checks  # noqa: F401 (registers the rate settings' check)
        from salter.core import logging as salter_logging

        salter_logging.configure()
