from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "salter.exchange"
    label = "exchange"
    verbose_name = "Data exchange"

    def ready(self) -> None:
        # Takes part in cases through the engine's seam (salter.cases.listeners), and
        # registers its periodic jobs with the clock (salter.core.clock).
        from salter.exchange import listeners, tasks  # noqa: F401
