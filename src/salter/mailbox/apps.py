from django.apps import AppConfig


class MailboxConfig(AppConfig):
    name = "salter.mailbox"
    label = "mailbox"
    verbose_name = "E-mailbox"
