"""The applicant's pages: apply for a service step by step, my cases, one case with its
timeline, withdraw. Server-rendered, no JavaScript.

The answers so far are kept as a :class:`~salter.cases.models.Draft` per applicant and
service, so an applicant who leaves the form finds it where they left it, on any device; the
submission removes it in its own transaction. The
summary page carries a fresh idempotency key in a hidden field: a double click or a retried
POST finds the case the first one made and never registers a second one.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from salter.cases import access, listeners, queries, services, steps, workflow
from salter.cases.errors import CaseError
from salter.cases.models import Case, CaseEvent, Draft
from salter.catalog import queries as catalog_queries
from salter.catalog.forms import ServiceForm
from salter.catalog.models import Service, ServiceVersion
from salter.core import params
from salter.core.context import Actor
from salter.identity import loa
from salter.identity.models import Role, User

REVIEW = "review"
_KEY = re.compile(r"^[0-9a-f]{32}$")


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


# --- apply -----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest, authority: str, code: str) -> HttpResponse:
    """The service's form, one step at a time, then a summary to check and submit."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    version = catalog_queries.published_version(authority, code)
    if version is None:
        raise Http404
    service = version.service
    level = service.min_level_of_assurance
    if loa.of(request) < level:
        return redirect(loa.step_up_url(request, level))
    user = _user(request)
    if service.kind == Service.Kind.INTERNAL and not access.official_roles(
        user, service.authority_id
    ):
        return render(
            request, "cases/applicant/internal_only.html", {"service": service}, status=403
        )
    return _Apply(request, version, user).respond()


class _Apply:
    def __init__(self, request: HttpRequest, version: ServiceVersion, user: User) -> None:
        self.request = request
        self.version = version
        self.service = version.service
        self.user = user
        self.form = ServiceForm(version.definition)
        self.path = request.path
        draft = Draft.objects.filter(applicant=user, service=self.service).first()
        # A draft started on an older version of the form starts again.
        same = draft is not None and draft.service_version_id == version.pk
        self.data: dict[str, Any] = dict(draft.data) if draft is not None and same else {}
        self.context: dict[str, Any] = {"service": self.service, "version": version}

    def save(self, step: int = 0) -> None:
        Draft.objects.update_or_create(
            applicant=self.user,
            service=self.service,
            defaults={
                "service_version": self.version,
                "data": self.data,
                "step": step,
                "updated_at": timezone.now(),
            },
        )

    def show(
        self, number: int, errors: Mapping[str, str] | None = None, raw: Any = None
    ) -> HttpResponse:
        self.context["step"] = self.form.render(number, self.data, errors, raw)
        self.context["action"] = f"{self.path}?step={number}"
        return render(self.request, "cases/applicant/apply.html", self.context)

    def go(self, step: int | str) -> HttpResponse:
        self.save(step if isinstance(step, int) else self.form.count)
        return redirect(f"{self.path}?step={step}")

    def review(self, error: str = "") -> HttpResponse:
        whole = self.form.validate(self.data)
        if not whole.ok:  # e.g. a field waiting on a later answer: back to the first problem
            return self.show(self.form.first_step_with_error(whole.errors), whole.errors)
        self.context.update(
            summary=self.form.summary(whole.data),
            idempotency_key=uuid.uuid4().hex,
            error=error,
            count=self.form.count,
        )
        return render(self.request, "cases/applicant/summary.html", self.context)

    def respond(self) -> HttpResponse:
        request = self.request
        requested = params.text(request.GET, "step", max_length=20)
        if request.method != "POST":
            if requested == REVIEW:
                return self.review()
            return self.show(self.form.step_number(requested))
        action = params.text(request.POST, "action", max_length=20, default="next")
        if action == "reset":
            Draft.objects.filter(applicant=self.user, service=self.service).delete()
            return redirect(self.path)
        if action == "submit":
            return self.submit(params.text(request.POST, "idempotency_key", max_length=100))
        current = self.form.step_number(requested)
        files = {name: getattr(upload, "name", "") for name, upload in request.FILES.items()}
        cleaned = self.form.clean_step(current, request.POST, self.data, files)
        for name in self.form.ui_steps[current - 1]["fields"]:
            self.data.pop(name, None)
        self.data.update(cleaned.data)
        if action == "back":  # keep what is valid, complain about nothing
            return self.go(max(current - 1, 1))
        if not cleaned.ok:
            self.save(current)
            return self.show(current, cleaned.errors, cleaned.raw)
        if current < self.form.count:
            return self.go(current + 1)
        return self.go(REVIEW)

    def submit(self, key: str) -> HttpResponse:
        if not _KEY.match(key):
            return self.review()
        done = Case.objects.filter(applicant=self.user, idempotency_key=key).first()
        if done is not None:  # a double click or a retry: the case the first one made
            return redirect("cases:detail", case_id=done.pk)
        whole = self.form.validate(self.data)
        if not whole.ok:
            return self.show(self.form.first_step_with_error(whole.errors), whole.errors)
        actor = Actor.from_request(self.request)
        try:
            case, _created = services.submit(actor, self.version, whole.data, idempotency_key=key)
        except ValidationError as exc:
            errors = {name: str(msgs[0]) for name, msgs in exc.message_dict.items()}
            return self.show(self.form.first_step_with_error(errors), errors)
        except (CaseError, PermissionDenied) as exc:
            return self.review(str(exc))
        messages.success(
            self.request,
            _("Your application has been submitted. Its registry number is %(number)s.")
            % {"number": case.registry_number},
        )
        return redirect("cases:detail", case_id=case.pk)


# --- my cases and one case -------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    case: Case
    state: str


@require_GET
@login_required
def my_cases(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    rows = [Row(c, queries.state_label(c)) for c in queries.my_cases(user)]
    drafts = (
        Draft.objects.filter(applicant=user)
        .select_related("service__authority")
        .defer("data")
        .order_by("-updated_at")[:20]
    )
    return render(request, "cases/applicant/list.html", {"rows": rows, "drafts": drafts})


@dataclass(frozen=True)
class Entry:
    """One event of the timeline as the applicant reads it."""

    at: datetime
    what: str
    state: str  # the state it led to, if it moved the case
    unit: str
    role: str
    opinion: str
    text: str  # a comment's text
    mark: str = ""  # "deputy for …" when someone stood in for an official


def _role(role: str) -> str:
    if role == workflow.APPLICANT:
        return _("you (the applicant)")
    return str(Role(role).label) if role in Role.values else role


def _entry(event: CaseEvent, definition: Mapping[str, Any]) -> Entry:
    what = event.get_kind_display()
    if event.transition_id and event.kind in (CaseEvent.Kind.TRANSITION, CaseEvent.Kind.APPROVAL):
        transition = workflow.transition(definition, event.transition_id) or {}
        label = workflow.text(transition.get("label"))
        if event.kind == CaseEvent.Kind.APPROVAL:
            step = workflow.text(event.payload.get("step_label"))
            what = f"{what}: {label} — {step}" if label else what
        else:
            what = label or what
    act = steps.act_text(event)
    if act:
        what = f"{what}: {act}"
    state = workflow.state_label(definition, event.to_state) if event.to_state else ""
    return Entry(
        at=event.at,
        what=str(what),
        state=state,
        unit=event.unit.display_name if event.unit is not None else "",
        role=_role(event.actor_role) if event.actor_role else "",
        opinion=event.opinion,
        text=_said(event),
        mark=steps.mark_text(
            str(event.payload.get("mark", "")), str(event.payload.get("principal", ""))
        ),
    )


SAID = (CaseEvent.Kind.SUPPLEMENT_REQUESTED, CaseEvent.Kind.SUPPLEMENT_ANSWERED)


def _said(event: CaseEvent) -> str:
    """The words of an event: a comment's text, what a supplement request asked and what the
    answer said (the text fields entered with it)."""
    if event.kind == CaseEvent.Kind.COMMENT:
        return str(event.payload.get("text", ""))
    if event.kind in SAID:
        inputs = event.payload.get("inputs", {})
        return "\n".join(str(v) for v in inputs.values() if isinstance(v, str) and v)
    return ""


def can_withdraw(case: Case) -> bool:
    if case.closed_at is not None:
        return False
    definition = case.service_version.definition
    transition = workflow.transition(definition, workflow.WITHDRAW)
    if transition is None:
        return not workflow.is_final(definition, case.state)
    return case.state in workflow.sources(transition) and workflow.APPLICANT in transition["roles"]


def _own_case(request: HttpRequest, case_id: int) -> queries.CaseView:
    """The applicant's own case, else 404 (never say that someone else's case exists)."""
    view = queries.case_with_timeline(case_id, _user(request))
    if view is None or view.as_official:
        raise Http404
    return view


def _applicants_step(transition: Mapping[str, Any]) -> bool:
    """Steps the applicant takes on the case page (supplying what was asked, reporting the
    work done); withdrawal has its own confirmation page."""
    return transition["id"] != workflow.WITHDRAW and workflow.APPLICANT in transition["roles"]


def _show(
    request: HttpRequest,
    view: queries.CaseView,
    *,
    failed: str = "",
    errors: Mapping[str, str] | None = None,
    raw: Mapping[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    case = view.case
    definition = case.service_version.definition
    context = {
        "case": case,
        "state": workflow.state_label(definition, case.state),
        "waits_for_me": workflow.waits_for_applicant(definition, case.state),
        "timeline": [_entry(e, definition) for e in view.events],
        "can_withdraw": can_withdraw(case),
        "steps": steps.step_forms(case, _applicants_step, failed, errors, raw),
        "entered": workflow.entered(definition, case.inputs),
        "request_text": _supplement_request(view),
        # What the apps add: the acts, the deliveries, the fees (salter.cases.listeners).
        **listeners.page_sections(case, official=False),
    }
    return render(request, "cases/applicant/detail.html", context, status=status)


def _supplement_request(view: queries.CaseView) -> str:
    """What the authority asked for, while the case waits for the applicant."""
    definition = view.case.service_version.definition
    if not workflow.waits_for_applicant(definition, view.case.state):
        return ""
    for event in reversed(view.events):
        if event.kind == CaseEvent.Kind.SUPPLEMENT_REQUESTED:
            return _said(event)
    return ""


@require_GET
@login_required
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    return _show(request, _own_case(request, case_id))


@require_POST
@login_required
def take(request: HttpRequest, case_id: int, transition_id: str) -> HttpResponse:
    """The applicant takes a step of their case: answers a supplement request, reports."""
    view = _own_case(request, case_id)
    case = view.case
    transition = workflow.transition(case.service_version.definition, transition_id)
    if transition is None or not _applicants_step(transition):
        raise Http404
    detail = reverse("cases:detail", kwargs={"case_id": case.pk})
    posted = steps.read(transition, request.POST)
    if posted.errors:
        return _show(
            request, view, failed=transition_id, errors=posted.errors, raw=posted.raw, status=400
        )
    try:
        services.take_transition(
            Actor.from_request(request),
            case.pk,
            transition_id,
            inputs=posted.inputs,
            opinion=str(posted.raw["opinion"]),
            expected_version=params.optional_number(request.POST, "expected_version"),
        )
    except ValidationError as exc:
        errors = steps.messages_of(exc)
        return _show(request, view, failed=transition_id, errors=errors, raw=posted.raw, status=400)
    except (CaseError, PermissionDenied) as exc:
        messages.error(request, str(exc))
        return redirect(detail)
    messages.success(
        request,
        _("Done: %(step)s.") % {"step": workflow.text(transition.get("label")) or transition_id},
    )
    return redirect(detail)


@require_http_methods(["GET", "POST"])
@login_required
def withdraw(request: HttpRequest, case_id: int) -> HttpResponse:
    """A confirmation page; its POST withdraws the application."""
    view = _own_case(request, case_id)
    case = view.case
    detail = reverse("cases:detail", kwargs={"case_id": case.pk})
    if request.method == "POST":
        try:
            services.withdraw(Actor.from_request(request), case.pk)
        except (CaseError, PermissionDenied) as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Your application has been withdrawn."))
        return redirect(detail)
    if not can_withdraw(case):
        messages.error(request, _("This application can no longer be withdrawn."))
        return redirect(detail)
    return render(request, "cases/applicant/withdraw.html", {"case": case})
