"""Data services, exchange messages, ex officio evidence requests and the access log.

* :class:`DataService` — a register's query offered to other authorities: its inputs and
  outputs, the legal basis, who may ask, where it is served and the platform's token for it.
* :class:`ExchangeMessage` — the platform's side of one query: who asked (authority, system,
  official), for which case, purpose and legal basis, the request id, both bodies and their
  hashes, sealed and timestamped. The register keeps its own log of the same exchange.
* :class:`EvidenceRequest` — a piece of evidence a case needs from a register: pending until
  the register answers, retried while it is down, escalated to the official after the deadline.
* :class:`CaseSubject` — the persons whose data a case holds (the applicant, the persons named
  by personal number in the form): reading the case is a read of their data.
* :class:`AccessRecord` — the Data Tracker: one read of one person's data. Append-only; on
  PostgreSQL partitioned by month (see the migration and ``salter access_log_partitions``).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from salter.authorities.models import Authority
from salter.core import pii


class DataService(models.Model):
    """A described query on a register, served over HTTP (see salter.registers for the demo
    registers and docs/exchange.md for the protocol)."""

    code = models.CharField(_("code"), max_length=100, unique=True)  # register.query
    authority = models.ForeignKey(
        Authority, on_delete=models.PROTECT, related_name="data_services"
    )  # the register's holder
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("name in English"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    url = models.URLField(_("address of the query"), max_length=500)
    openapi_url = models.URLField(_("address of the OpenAPI description"), max_length=500)
    inputs = models.JSONField(_("inputs"), default=list)  # [{"name", "label", "label_en"}]
    outputs = models.JSONField(_("outputs"), default=list)  # [{"name", "label", "label_en"}]
    legal_basis = models.CharField(_("legal basis"), max_length=500)
    # Who may ask: these authorities, or any authority on the platform when empty.
    allowed = models.ManyToManyField(Authority, blank=True, related_name="+")
    token = pii.EncryptedTextField(_("the platform's access token"), blank=True)
    timeout_seconds = models.FloatField(default=10)
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("data service")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class ExchangeMessage(models.Model):
    class Outcome(models.TextChoices):
        ANSWERED = "answered", _("Answered")
        NOT_FOUND = "not_found", _("No record found")
        REFUSED = "refused", _("Refused")
        FAILED = "failed", _("No answer")
        INVALID = "invalid", _("Unreadable answer")

    request_id = models.UUIDField(default=uuid.uuid4, unique=True)
    service = models.ForeignKey(DataService, on_delete=models.PROTECT, related_name="messages")
    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, related_name="+")
    system = models.CharField(max_length=100)
    official = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    purpose = models.CharField(max_length=300)
    legal_basis = models.CharField(max_length=500)
    request = pii.PersonalJSONField(default=dict)
    request_hash = models.CharField(max_length=64)
    sent_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response = pii.PersonalJSONField(null=True, blank=True)
    response_hash = models.CharField(max_length=64, blank=True)
    # The register's hash of the request and the response together (X-Road style), as it sent
    # it, and whether it matches what the platform sent and received.
    exchange_hash = models.CharField(max_length=64, blank=True)
    hash_matches = models.BooleanField(null=True)
    error = models.TextField(blank=True)
    # The canonical record of the message, sealed (CMS, detached) and timestamped.
    record = models.TextField(blank=True)
    signature = models.TextField(blank=True)

    class Meta:
        verbose_name = _("exchange message")
        indexes = [models.Index(fields=["case", "id"], name="exchange_msg_case_idx")]

    def __str__(self) -> str:
        return f"{self.service_id} {self.request_id}"


class EvidenceRequest(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("Asked, waiting for the register")
        ANSWERED = "answered", _("Obtained from the register")
        NOT_FOUND = "not_found", _("The register holds no record")
        ESCALATED = "escalated", _("The register did not answer: the official decides")
        BROUGHT = "brought", _("Brought by the applicant")
        CANCELLED = "cancelled", _("No longer needed")

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="evidence")
    code = models.CharField(max_length=64)  # the definition's evidence code
    service_code = models.CharField(max_length=100, blank=True)
    inputs = pii.PersonalJSONField(default=dict)
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField()
    last_error = models.TextField(blank=True)
    answer = pii.PersonalJSONField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    message = models.ForeignKey(
        ExchangeMessage, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    escalated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("evidence request")
        constraints = [
            models.UniqueConstraint(fields=["case", "code"], name="evidence_once_per_case")
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="evidence_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.code} {self.state}"


class CaseSubject(models.Model):
    class Role(models.TextChoices):
        APPLICANT = "applicant", _("Applicant")
        NAMED = "named", _("Named in the application")

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="subjects")
    person = models.ForeignKey("identity.Person", on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "person"], name="case_subject_once")]
        indexes = [models.Index(fields=["person", "case"], name="case_subject_person_idx")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.person_id}"


class AccessRecord(models.Model):
    """One read of one person's data. ``visible_at`` is when the person may see it: at once,
    or after ``hidden_until`` for a read that must stay hidden for an investigation. The
    foreign keys carry no database constraint: the table is an append-only log, partitioned
    on PostgreSQL, whose rows outlive any change elsewhere."""

    class Action(models.TextChoices):
        CASE_READ = "case_read", _("Opened a case")
        DOCUMENT_READ = "document_read", _("Opened a document")
        MESSAGE_READ = "message_read", _("Read a message")
        API_READ = "api_read", _("Read through the API")
        REGISTER_QUERY = "register_query", _("Queried a register")
        REGISTER_ANSWER = "register_answer", _("Answered a query from a register")

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField()
    visible_at = models.DateTimeField()
    hidden_until = models.DateTimeField(null=True, blank=True)
    subject = models.ForeignKey(
        "identity.Person", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    reader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    reader_label = models.CharField(max_length=200)  # the official, API client or system
    authority = models.ForeignKey(
        Authority,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    purpose = models.CharField(max_length=300)
    legal_basis = models.CharField(max_length=500, blank=True)
    items = models.JSONField(default=list)  # which data: field names or a register's outputs
    case = models.ForeignKey(
        "cases.Case",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("access record")
        indexes = [
            # "Who accessed my data", newest first: one index range scan per page.
            models.Index(fields=["subject", "-at", "-id"], name="access_subject_idx"),
            # The notifier's window of newly visible reads.
            models.Index(fields=["visible_at"], name="access_visible_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.subject_id} {self.action} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError("the access log is append-only: a record is never changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("the access log is append-only: a record is never deleted")


class NoticeCursor(models.Model):
    """How far the notifier has told people of reads of their data: every record that became
    visible up to ``visible_until`` has been announced."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    visible_until = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.visible_until:%Y-%m-%d %H:%M}"
