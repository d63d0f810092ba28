from django.apps import AppConfig


class MailboxConfig(AppConfig):
    name = "salter.mailbox"
    label = "mailbox"
    verbose_name = "E-mailbox"

    def ready(self) -> None:
        # Takes part in cases through the engine's seam (salter.cases.listeners), and
        # registers its periodic jobs with the clock (salter.core.clock).
        from salter.mailbox import listeners, tasks  # noqa: F401
