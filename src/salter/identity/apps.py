from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "salter.identity"
    label = "identity"
    verbose_name = "Identity"

    def ready(self) -> None:
        from salter.identity import signals  # noqa: F401
