from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "salter.documents"
    label = "documents"
    verbose_name = "Documents"

    def ready(self) -> None:
        # Takes part in cases through the engine's seam (salter.cases.listeners), and
        # registers its periodic jobs with the clock (salter.core.clock).
        from salter.documents import case_urls, listeners, tasks  # noqa: F401
