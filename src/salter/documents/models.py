"""The registry of documents (delovodnik): every incoming, outgoing and internal document of an
authority, registered with a number from its registry book, with its versions and files.

* :class:`Document` — one registered entry: its number (a case's acts take sub-numbers of the
  case's number), date, direction, sender/recipient, subject, classification code and the
  retention it implies, a code for public verification. Entries are voided with a reason,
  never deleted.
* :class:`DocumentVersion` — a file of the document (the draft, the signed PDF…), stored
  through Django's storage API with its SHA-256.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from salter.authorities.models import Authority, Category, RegistryBook
from salter.core import confidentiality
from salter.core.confidentiality import Level


class Document(models.Model):
    class Direction(models.TextChoices):
        INCOMING = "incoming", _("Incoming")
        OUTGOING = "outgoing", _("Outgoing")
        INTERNAL = "internal", _("Internal")

    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, related_name="documents")
    book = models.ForeignKey(RegistryBook, on_delete=models.PROTECT, related_name="documents")
    year = models.PositiveSmallIntegerField(_("year"))
    number = models.PositiveIntegerField(_("number"))
    sub_number = models.PositiveIntegerField(_("sub-number"), default=0)
    registry_number = models.CharField(_("registry number"), max_length=100)
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="documents"
    )
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices)
    registered_at = models.DateTimeField(_("registered at"))
    sender = models.CharField(_("sender"), max_length=300, blank=True)
    recipient = models.CharField(_("recipient"), max_length=300, blank=True)
    subject = models.CharField(_("subject"), max_length=500)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="documents"
    )
    verification_code = models.CharField(max_length=20, unique=True)
    # Officials read a document only up to their clearance (a case's documents take the
    # case's level when they are registered).
    confidentiality = models.CharField(
        _("confidentiality"),
        max_length=20,
        choices=Level.choices,
        default=confidentiality.DEFAULT_CASE_LEVEL,
    )
    # Number, subject, sender and recipient folded to lower case, in Cyrillic and in Latin:
    # a search matches whatever script and case it is typed in, on SQLite as on PostgreSQL.
    search_text = models.TextField(default="", editable=False)
    # An act of a case made from the service's definition: the definition's document code,
    # and when and by whom the signed (or sealed) act was issued. Empty for registered mail.
    act_code = models.CharField(max_length=50, blank=True)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    carried_over_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="carried_over_to"
    )
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    void_reason = models.CharField(_("reason for voiding"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["book", "year", "number", "sub_number"], name="document_number_once"
            )
        ]
        indexes = [
            # The registry book of a year, newest first: a range of one index.
            models.Index(
                fields=["book", "year", "-number", "-sub_number"], name="document_book_idx"
            ),
            models.Index(fields=["case", "sub_number"], name="document_case_idx"),
        ]

    def __str__(self) -> str:
        return self.registry_number

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding and kwargs.get("update_fields") is None:
            raise ValueError("a registered document changes only through its services")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("registry entries are voided with a reason, never deleted")


class DocumentVersion(models.Model):
    class Kind(models.TextChoices):
        FILE = "file", _("File")
        DRAFT = "draft", _("Draft")
        SIGNED = "signed", _("Signed")
        SEALED = "sealed", _("Sealed")

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.FILE)
    file = models.FileField(upload_to="documents/%Y/%m/", max_length=300)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["document", "number"], name="document_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.document_id} v{self.number}"
