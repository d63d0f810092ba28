from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "salter.catalog"
    label = "catalog"
    verbose_name = "Catalog of services"
