from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "salter.payments"
    label = "payments"
    verbose_name = "Payments"
