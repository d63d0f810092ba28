"""The demo registers' own tables: their records, their clients and their message log.

* :class:`BirthRecord` — the civil registry (матичне књиге): one entry of the birth register
  book (матична књига рођених) per person.
* :class:`Residence` — the residence register (евиденција пребивалишта): a person's current
  address of residence.
* :class:`TaxRecord` — a municipality's local tax records (локална пореска администрација):
  property tax assessed, paid and owed per year.
* :class:`RegisterClient` — a system allowed to ask, by token, and which queries.
* :class:`RegisterLog` — the register's own log of every exchange, refused ones included,
  each entry sealed by the register. Append-only.

Nothing here refers to the platform's models: the registers are a separate service that
happens to share the deployment, and the platform reaches them over HTTP only. Personal
numbers are stored encrypted with a keyed hash for lookup, as on the platform
(:mod:`salter.core.pii`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from salter.core import pii


class PersonalQuerySet(models.QuerySet[Any]):
    def by_jmbg(self, jmbg: str) -> PersonalQuerySet:
        """Records of the person with this JMBG, found by its keyed hash (the number itself
        is stored encrypted and cannot be compared in a query)."""
        return self.filter(jmbg_hash__in=pii.blinds(jmbg))


class PersonalRecord(models.Model):
    """A record about one person, found by personal number."""

    jmbg = pii.EncryptedTextField(_("JMBG"))
    # Each table has a unique constraint that starts with it: the index lookups use.
    jmbg_hash = models.CharField(max_length=80, editable=False)

    objects: ClassVar[PersonalQuerySet] = PersonalQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.jmbg_hash = pii.blind(self.jmbg)
        super().save(*args, **kwargs)


class BirthRecord(PersonalRecord):
    class Sex(models.TextChoices):
        MALE = "M", _("male")
        FEMALE = "F", _("female")

    given_name = models.CharField(_("given name"), max_length=100)
    family_name = models.CharField(_("family name"), max_length=100)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("date of birth"))
    birth_place = models.CharField(_("place of birth"), max_length=100)
    municipality = models.CharField(_("municipality of birth"), max_length=100)
    mother_name = models.CharField(_("mother's name"), max_length=200, blank=True)
    mother_jmbg = pii.EncryptedTextField(_("mother's JMBG"), blank=True)
    father_name = models.CharField(_("father's name"), max_length=200, blank=True)
    father_jmbg = pii.EncryptedTextField(_("father's JMBG"), blank=True)
    # редни број уписа: the entry's serial number in the municipality's birth register book
    entry_number = models.CharField(_("entry number in the birth register"), max_length=50)

    class Meta:
        verbose_name = _("birth record")
        constraints = [models.UniqueConstraint(fields=["jmbg_hash"], name="birth_record_once")]

    def __str__(self) -> str:
        return f"{self.given_name} {self.family_name} {self.entry_number}"


class Residence(PersonalRecord):
    address = models.CharField(_("address"), max_length=200)
    place = models.CharField(_("place"), max_length=100)
    municipality = models.CharField(_("municipality"), max_length=100)
    since = models.DateField(_("resident since"))

    class Meta:
        verbose_name = _("residence")
        constraints = [models.UniqueConstraint(fields=["jmbg_hash"], name="residence_once")]

    def __str__(self) -> str:
        return f"{self.address}, {self.place}"


class TaxRecord(PersonalRecord):
    municipality = models.CharField(_("municipality"), max_length=100)
    year = models.PositiveSmallIntegerField(_("year"))
    assessed = models.DecimalField(_("property tax assessed"), max_digits=12, decimal_places=2)
    paid = models.DecimalField(_("paid"), max_digits=12, decimal_places=2)
    debt = models.DecimalField(_("debt"), max_digits=12, decimal_places=2)

    class Meta:
        verbose_name = _("tax record")
        constraints = [
            models.UniqueConstraint(
                fields=["jmbg_hash", "municipality", "year"], name="tax_record_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.municipality} {self.year}"


class RegisterClient(models.Model):
    """A system allowed to ask the registers. The token is ``reg_<prefix>_<secret>``; only its
    SHA-256 is kept, the prefix finds the row. ``authority`` is the code of the authority
    answerable for the client system (for the platform, its operator); the authority a query
    is asked for travels in each request."""

    name = models.CharField(_("name"), max_length=200)
    authority = models.CharField(_("authority code"), max_length=50)
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    queries = models.JSONField(_("queries it may ask"), default=list)
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("register client")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"


class AppendOnlyQuerySet(models.QuerySet[Any]):
    def update(self, **kwargs: Any) -> int:
        raise ValueError("the register's log is append-only: an entry is never changed")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ValueError("the register's log is append-only: an entry is never deleted")


class RegisterLog(models.Model):
    """One exchange as the register saw it: the hashes of both bodies and of the two together
    (what it sent in ``X-Salter-Exchange-Hash``), and the canonical ``record`` of it all,
    sealed (detached CMS, base64) by the register's own e-seal. Append-only; on PostgreSQL a
    trigger refuses UPDATE and DELETE (migration 0001)."""

    class Outcome(models.TextChoices):
        ANSWERED = "answered", _("Answered")
        NOT_FOUND = "not_found", _("No record found")
        REFUSED = "refused", _("Refused")

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField()
    request_id = models.CharField(max_length=64, blank=True)  # as the client sent it
    client = models.ForeignKey(
        RegisterClient, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    on_behalf_of = models.CharField(max_length=50, blank=True)  # the asking authority's code
    query = models.CharField(max_length=100)
    status = models.PositiveSmallIntegerField()
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    # The keyed hash of the personal number asked about, so the register can say who asked
    # about a person without keeping the number in its log.
    subject_hash = models.CharField(max_length=80, blank=True)
    request_hash = models.CharField(max_length=64)
    response_hash = models.CharField(max_length=64)
    exchange_hash = models.CharField(max_length=64)
    record = models.TextField()
    signature = models.TextField()

    objects: ClassVar[AppendOnlyQuerySet] = AppendOnlyQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("register log entry")
        indexes = [
            models.Index(fields=["request_id"], name="register_log_request_idx"),
            models.Index(fields=["subject_hash", "at"], name="register_log_subject_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.query} {self.request_id} {self.status}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError("the register's log is append-only: an entry is never changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("the register's log is append-only: an entry is never deleted")
