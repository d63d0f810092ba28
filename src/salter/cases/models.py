"""A case (predmet) runs a pinned service definition; its timeline and its open task.

* :class:`Case` — one application, pinned to the :class:`~salter.catalog.models.ServiceVersion`
  it was submitted on, with its registry number (delovodni broj), the form data, the input
  entered along the way, its state and its legal deadline.
* :class:`CaseEvent` — the timeline, append-only: every step, comment, claim and supplement.
* :class:`Task` — the work item of an open case in its current state: who may act (the roles
  of the transitions leaving the state), who claimed it, by when. Only open cases have a task,
  so the queue table holds open work only and stays small however many cases are closed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from salter.authorities.models import Authority, OrgUnit, RegistryBook
from salter.catalog.models import Service, ServiceVersion
from salter.core import confidentiality, pii
from salter.core.confidentiality import Level


class Case(models.Model):
    service_version = models.ForeignKey(
        ServiceVersion, on_delete=models.PROTECT, related_name="cases"
    )
    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, related_name="cases")
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cases"
    )
    on_behalf_of = models.CharField(_("on behalf of"), max_length=100, blank=True)
    # delovodni broj: the number as written, and its parts for uniqueness and sorting
    registry_number = models.CharField(_("registry number"), max_length=100)
    book = models.ForeignKey(RegistryBook, on_delete=models.PROTECT, related_name="cases")
    year = models.PositiveSmallIntegerField(_("year"))
    number = models.PositiveIntegerField(_("number"))
    state = models.CharField(_("state"), max_length=50)
    # Personal numbers in the form data are stored encrypted (salter.core.pii).
    data = pii.PersonalJSONField(_("form data"), default=dict)
    inputs = models.JSONField(_("input entered along the way"), default=dict)
    submitted_at = models.DateTimeField(_("submitted at"))
    deadline_at = models.DateField(_("legal deadline"), null=True, blank=True)
    paused_at = models.DateTimeField(_("waiting for the applicant since"), null=True, blank=True)
    paused_days = models.PositiveIntegerField(_("days waited for the applicant"), default=0)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # When the case entered its current state, and the case's version then: timers count from
    # the first, an approval line collects approvals for the current visit of the state only.
    state_entered_at = models.DateTimeField(null=True, blank=True)
    state_version = models.PositiveIntegerField(default=1)
    # The last sub-number given to an act of this case in the registry of documents.
    last_sub_number = models.PositiveIntegerField(default=0)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    # The unit that handles the case (its service's unit; none = the whole authority) and how
    # confidential it is: officials read it only from that unit and up to their clearance,
    # unless granted access (CaseGrant).
    unit = models.ForeignKey(
        OrgUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    confidentiality = models.CharField(
        _("confidentiality"),
        max_length=20,
        choices=Level.choices,
        default=confidentiality.DEFAULT_CASE_LEVEL,
    )

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        constraints = [
            # A retried submission finds the case its first attempt made. NULL keys are distinct.
            models.UniqueConstraint(
                fields=["applicant", "idempotency_key"], name="case_idempotency_per_applicant"
            ),
            models.UniqueConstraint(
                fields=["book", "year", "number"], name="case_number_per_book_and_year"
            ),
        ]
        indexes = [
            # "My cases", newest first: an index range scan whatever the table size.
            models.Index(fields=["applicant", "-id"], name="case_applicant_idx"),
        ]

    def __str__(self) -> str:
        return self.registry_number

    @property
    def definition(self) -> dict[str, object]:
        return self.service_version.definition


class CaseEvent(models.Model):
    class Kind(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        TRANSITION = "transition", _("Step taken")
        COMMENT = "comment", _("Comment")
        CLAIMED = "claimed", _("Taken into work")
        RELEASED = "released", _("Released")
        ASSIGNED = "assigned", _("Assigned")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        SUPPLEMENT_REQUESTED = "supplement_requested", _("Supplement requested")
        SUPPLEMENT_ANSWERED = "supplement_answered", _("Supplement sent")
        APPROVAL = "approval", _("Approval recorded")
        ESCALATED = "escalated", _("Overdue: flagged to the head of unit")
        DOCUMENT = "document", _("Document issued")
        DRAFTED = "drafted", _("Draft of a document prepared")
        CARRIED_OVER = "carried_over", _("Carried over into the new year's registry book")
        LETTER = "letter", _("Letter received from the applicant")
        DELIVERY = "delivery", _("Delivery")
        ACCESS_GRANTED = "access_granted", _("Access to the case granted")
        ACCESS_REVOKED = "access_revoked", _("Access to the case revoked")
        EVIDENCE = "evidence", _("Evidence from a register")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField()
    kind = models.CharField(max_length=30, choices=Kind.choices)
    transition_id = models.CharField(max_length=50, blank=True)
    from_state = models.CharField(max_length=50, blank=True)
    to_state = models.CharField(max_length=50, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_role = models.CharField(max_length=30, blank=True)
    unit = models.ForeignKey(
        OrgUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    opinion = models.TextField(blank=True)
    internal = models.BooleanField(default=False)  # hidden from the applicant
    payload = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        indexes = [models.Index(fields=["case", "id"], name="caseevent_case_idx")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError("the timeline is append-only: an event is never changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("the timeline is append-only: an event is never deleted")


class Task(models.Model):
    """The open work item of a case. Replaced (updated in place) on every transition and
    deleted when the case reaches a final state."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="task")
    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=50)
    roles = models.JSONField(default=list)  # who may take a transition from this state
    # The same roles as bits (see services.role_mask): a portable "roles intersect" filter.
    role_mask = models.PositiveIntegerField(default=0)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    due_at = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField()
    # Set by the escalation job when the task is overdue: the head of unit sees it flagged.
    escalated_at = models.DateTimeField(null=True, blank=True)
    # The case's unit and confidentiality rank (salter.core.confidentiality.rank), copied so the
    # queue filters on them without reading the case.
    unit = models.ForeignKey(
        OrgUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    level = models.PositiveSmallIntegerField(default=1)

    class Meta:
        indexes = [
            models.Index(fields=["authority", "state"], name="task_authority_state_idx"),
            # The queue's order, NULL deadlines last, so a keyset page is one index range scan.
            models.Index(
                F("authority"),
                Coalesce(F("due_at"), Value(date(9999, 12, 31))),
                F("id"),
                name="task_authority_queue_idx",
            ),
            models.Index(fields=["assignee", "due_at"], name="task_assignee_idx"),
            models.Index(fields=["authority", "escalated_at"], name="task_escalated_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.state}"


class Approval(models.Model):
    """One approver's entry in the approval line of a transition, for one visit of the state
    (``state_version``). The transition is taken when the last step of its line is recorded.
    ``mark`` says whether the approver acted in their own role, as a deputy or by delegation;
    ``principal`` is whom they stood in for."""

    class Mark(models.TextChoices):
        OWN = "own", _("In own role")
        DEPUTY = "deputy", _("Deputy")
        DELEGATED = "delegated", _("By delegation")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="approvals")
    state_version = models.PositiveIntegerField()
    transition_id = models.CharField(max_length=50)
    step = models.PositiveSmallIntegerField()  # index into the transition's approval steps
    role = models.CharField(max_length=30)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(
        OrgUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    mark = models.CharField(max_length=20, choices=Mark.choices, default=Mark.OWN)
    principal = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    opinion = models.TextField(blank=True)
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["case", "state_version", "transition_id", "step"],
                name="approval_once_per_step",
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.transition_id}#{self.step} {self.mark}"


class Draft(models.Model):
    """An application being filled in, kept per applicant and service so it can be resumed on
    any device; removed when the application is submitted."""

    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="drafts"
    )
    service_version = models.ForeignKey(
        ServiceVersion, on_delete=models.CASCADE, related_name="drafts"
    )
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="drafts")
    data = pii.PersonalJSONField(default=dict)
    step = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["applicant", "service"], name="one_draft_per_service")
        ]

    def __str__(self) -> str:
        return f"{self.applicant_id} {self.service_id}"


class CaseGrant(models.Model):
    """Access to one case given to an official outside its unit or above their clearance (a
    colleague asked to advise, an inspector). Given and revoked by a head of unit of the case's
    authority; both are audited. A grant is for reading; acting still needs the role."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="grants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=300)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    granted_at = models.DateTimeField()
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    # An investigation: reads under this grant stay hidden from the persons concerned until
    # this date (they appear in "Who accessed my data" after it).
    hidden_until = models.DateTimeField(_("reads hidden until"), null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("access grant")
        indexes = [models.Index(fields=["user", "case"], name="casegrant_user_case_idx")]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.user_id}"
