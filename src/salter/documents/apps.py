from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "salter.documents"
    label = "documents"
    verbose_name = "Documents"
