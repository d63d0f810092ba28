from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "salter.payments"
    label = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        # Takes part in cases through the engine's seam (salter.cases.listeners).
        from salter.payments import listeners  # noqa: F401
