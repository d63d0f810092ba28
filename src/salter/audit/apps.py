from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "salter.audit"
    label = "audit"
    verbose_name = "Audit log"
