from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "salter.exchange"
    label = "exchange"
    verbose_name = "Data exchange"
