from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "salter.core"
    label = "core"
    verbose_name = "Šalter core"

    def ready(self) -> None:
        from django.urls import register_converter

        from salter.core import checks  # noqa: F401 (registers the rate settings' check)
        from salter.core import logging as salter_logging
        from salter.core.params import IdConverter

        salter_logging.configure()
        # Before any URLconf is read: the patterns of every app write their ids <id:…>.
        register_converter(IdConverter, "id")
