"""The audit log: append-only, each event chained to the one before it by its hash."""

from __future__ import annotations

from django.db import models


class AuditEvent(models.Model):
    """One state change. Written by :func:`salter.audit.services.record` in the transaction of
    the change itself, so a change without its event (or an event without its change) cannot
    exist. On PostgreSQL a trigger refuses UPDATE and DELETE of rows."""

    id = models.BigAutoField(primary_key=True)
    occurred_at = models.DateTimeField(db_index=True)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=200, blank=True)
    on_behalf_of = models.CharField(max_length=100, blank=True)
    mandate_id = models.BigIntegerField(null=True, blank=True)
    authority_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    action = models.CharField(max_length=100)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    via = models.CharField(max_length=20, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    payload_hash = models.CharField(max_length=64)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "id"], name="audit_object_idx"),
            models.Index(fields=["actor_id", "id"], name="audit_actor_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.object_type}:{self.object_id}"


class ChainHead(models.Model):
    """The newest link of the chain. Locking this single row serialises writers, so the chain
    never forks; comparing it with the last event reveals events cut off the end."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_event_id = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)
    count = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"head #{self.last_event_id}"
