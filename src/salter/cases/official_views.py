"""The officials' pages of cases, under /official/cases/ (behind the second-factor gate of
:class:`salter.identity.middleware.SessionPolicyMiddleware`): the work queue, a case with its
full timeline, and the steps an official takes on it (transition, claim, release, comment).

Server-rendered, no JavaScript: every action is a POST form that redirects back to the case
with a message (post/redirect/get); a form with errors is shown again with them (400).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case as Choose
from django.db.models import Count, F, IntegerField, Q, Value, When
from django.db.models.expressions import Combinable, CombinedExpression
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from salter.authorities.models import Authority
from salter.cases import queries, services, workflow
from salter.cases.models import Case, Task
from salter.catalog.forms import ServiceForm
from salter.catalog.models import ServiceVersion
from salter.core.context import Actor
from salter.identity import loa
from salter.identity.models import Membership, Role, User

PAGE_SIZE = 50
ASSIGNED = {"mine": True, "unassigned": False}


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _memberships(user: User) -> Any:
    today = timezone.localdate()
    return Membership.objects.filter(user=user, valid_from__lte=today).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=today)
    )


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


# --- the work queue ---------------------------------------------------------------------------


def queue_counts(user: User) -> dict[int, dict[str, int]]:
    """Per authority: the open tasks ``user`` may act on, how many are overdue and how many
    are assigned to them — one query for the roles, one for the counts."""
    masks: dict[int, int] = {}
    for authority_id, role in _memberships(user).values_list("unit__authority_id", "role"):
        masks[authority_id] = masks.get(authority_id, 0) | services.ROLE_BITS.get(role, 0)
    if not masks:
        return {}
    mine = Choose(
        *(When(authority_id=a, then=Value(m)) for a, m in masks.items()),
        default=Value(0),
        output_field=IntegerField(),
    )
    today = timezone.localdate()
    rows = (
        Task.objects.filter(authority_id__in=list(masks))
        .annotate(hit=CombinedExpression(F("role_mask"), Combinable.BITAND, mine))
        .filter(hit__gt=0)
        .values("authority_id")
        .annotate(
            total=Count("id"),
            overdue=Count("id", filter=Q(due_at__lt=today)),
            mine=Count("id", filter=Q(assignee=user)),
        )
        .order_by()
    )
    return {
        r["authority_id"]: {"total": r["total"], "overdue": r["overdue"], "mine": r["mine"]}
        for r in rows
    }


@loa.require_level(loa.TWO_FACTOR)
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """The official's work queue, earliest deadline first, 50 a page, with filters as GET
    parameters: ``authority``, ``state``, ``overdue=1``, ``assigned=mine|unassigned``."""
    user = _user(request)
    authorities = list(
        Authority.objects.filter(pk__in=_memberships(user).values("unit__authority_id")).order_by(
            "name"
        )
    )
    ids = [a.pk for a in authorities]
    authority = _int(request.GET.get("authority"))
    if authority not in ids:
        authority = None
    states: dict[str, str] = {}
    definitions = ServiceVersion.objects.filter(
        service__authority_id__in=[authority] if authority else ids,
        status=ServiceVersion.Status.PUBLISHED,
    ).values_list("definition__workflow__states", flat=True)
    for found in definitions:
        for state, info in (found or {}).items():
            if not (info or {}).get("final"):
                states.setdefault(state, workflow.text((info or {}).get("label")) or state)
    state = request.GET.get("state") or None
    if state not in states:
        state = None
    overdue = True if request.GET.get("overdue") == "1" else None
    assigned = request.GET.get("assigned", "")
    page = max(_int(request.GET.get("page")) or 1, 1)
    offset = (page - 1) * PAGE_SIZE
    # work_queue has no offset: a later page reads the earlier rows again (still 3 queries).
    items = queries.work_queue(
        user,
        authority=authority,
        state=state,
        overdue=overdue,
        assigned_to_me=ASSIGNED.get(assigned),
        limit=offset + PAGE_SIZE + 1,
    )
    shown = items[offset : offset + PAGE_SIZE]
    filters = {
        k: v
        for k, v in {
            "authority": authority or "",
            "state": state or "",
            "overdue": "1" if overdue else "",
            "assigned": assigned if assigned in ASSIGNED else "",
        }.items()
        if v
    }

    def page_url(number: int) -> str:
        return "?" + urlencode({**filters, "page": number})

    return render(
        request,
        "cases/official/queue.html",
        {
            "items": [(i, queries.state_label(i.case)) for i in shown],
            "authorities": authorities,
            "states": sorted(states.items(), key=lambda s: s[1]),
            "filters": filters,
            "page": page,
            "previous_url": page_url(page - 1) if page > 1 else "",
            "next_url": page_url(page + 1) if len(items) > offset + PAGE_SIZE else "",
        },
    )


# --- a case -----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class StepForm:
    id: str
    label: str
    fields: tuple[Any, ...]
    opinion: bool
    opinion_value: str
    opinion_error: str
    error: str

    @property
    def opinion_id(self) -> str:
        return f"{self.id}-opinion"


def _input_form(transition: Mapping[str, Any]) -> ServiceForm | None:
    """The transition's ``input`` schema as a one-step :class:`ServiceForm`; labels are the
    schema's ``title`` (the definition format has no UI hints for step input)."""
    schema = transition.get("input")
    if not schema or not schema.get("properties"):
        return None
    names = list(schema["properties"])
    hints = {
        n: {"label": schema["properties"][n].get("title") or n.replace("_", " ").capitalize()}
        for n in names
    }
    definition = {
        "form": {
            "schema": schema,
            "ui": {
                "steps": [{"id": transition["id"], "title": "", "fields": names}],
                "fields": hints,
            },
        }
    }
    return ServiceForm(definition)


def _prefixed(field: Any, prefix: str) -> Any:
    """A field with ids unique on a page that shows several steps' forms."""
    choices = tuple(dataclasses.replace(c, id=f"{prefix}-{c.id}") for c in field.choices)
    return dataclasses.replace(field, id=f"{prefix}-{field.id}", choices=choices)


def _step_forms(
    case: Case,
    held: set[str],
    failed: str = "",
    errors: Mapping[str, str] | None = None,
    raw: Mapping[str, Any] | None = None,
) -> list[StepForm]:
    """The transitions the official may take now — their roles in the case's authority."""
    if case.closed_at is not None:
        return []
    errors = errors or {}
    forms = []
    for transition in workflow.leaving(case.service_version.definition, case.state):
        if not held & set(transition["roles"]):
            continue
        tid = transition["id"]
        mine = tid == failed
        form = _input_form(transition)
        fields: tuple[Any, ...] = ()
        if form is not None:
            step = form.render(1, {}, errors if mine else None, raw if mine else None)
            fields = tuple(_prefixed(f, tid) for f in step.fields)
        forms.append(
            StepForm(
                id=tid,
                label=workflow.text(transition.get("label")) or tid,
                fields=fields,
                opinion=bool(transition.get("opinion")),
                opinion_value=str((raw or {}).get("opinion", "")) if mine else "",
                opinion_error=errors.get("opinion", "") if mine else "",
                error=errors.get("__all__", "") if mine else "",
            )
        )
    return forms


def _role(role: str) -> str:
    if role == workflow.APPLICANT:
        return _("applicant")
    return str(Role(role).label) if role in Role.values else role


def _official_case(request: HttpRequest, case_id: int) -> queries.CaseView:
    view = queries.case_with_timeline(case_id, _user(request))
    if view is None or not view.as_official:
        raise Http404
    return view


def _show(
    request: HttpRequest,
    view: queries.CaseView,
    *,
    failed: str = "",
    errors: Mapping[str, str] | None = None,
    raw: Mapping[str, Any] | None = None,
    comment_error: str = "",
    status: int = 200,
) -> HttpResponse:
    case = view.case
    user = _user(request)
    held = queries.official_roles(user, case.authority_id)
    definition = case.service_version.definition
    task = getattr(case, "task", None) if case.closed_at is None else None
    may_claim = task is not None and bool(held & set(task.roles)) and task.assignee_id != user.pk
    may_release = (
        task is not None
        and task.assignee_id is not None
        and (task.assignee_id == user.pk or "head_of_unit" in held)
    )
    states = definition["workflow"]["states"]
    events = [
        {
            "event": e,
            "from": workflow.state_label(definition, e.from_state) if e.from_state else "",
            "to": workflow.state_label(definition, e.to_state) if e.to_state else "",
            "role": _role(e.actor_role),
            "step": workflow.text(
                (workflow.transition(definition, e.transition_id) or {}).get("label")
            )
            if e.transition_id
            else "",
        }
        for e in view.events
    ]
    return render(
        request,
        "cases/official/case.html",
        {
            "case": case,
            "task": task,
            "state": workflow.state_label(definition, case.state),
            "final": case.state in states and workflow.is_final(definition, case.state),
            "data": ServiceForm(definition).summary(case.data),
            "inputs": sorted(case.inputs.items()),
            "events": events,
            "steps": _step_forms(case, held, failed, errors, raw),
            "may_claim": may_claim,
            "may_release": may_release,
            "comment_error": comment_error,
            "comment_value": (raw or {}).get("text", "") if comment_error else "",
        },
        status=status,
    )


@loa.require_level(loa.TWO_FACTOR)
@require_GET
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    return _show(request, _official_case(request, case_id))


def _back(case_id: int) -> HttpResponse:
    return redirect(reverse("official:case", args=[case_id]))


def _messages(exc: ValidationError) -> dict[str, str]:
    if hasattr(exc, "error_dict"):
        return {name: str(errors[0].messages[0]) for name, errors in exc.error_dict.items()}
    return {"__all__": exc.messages[0]}


@loa.require_level(loa.TWO_FACTOR)
@require_POST
def take(request: HttpRequest, case_id: int, transition_id: str) -> HttpResponse:
    view = _official_case(request, case_id)
    case = view.case
    transition = workflow.transition(case.service_version.definition, transition_id)
    if transition is None:
        raise Http404
    opinion = request.POST.get("opinion", "")
    raw: dict[str, Any] = {"opinion": opinion}
    inputs: dict[str, Any] = {}
    form = _input_form(transition)
    if form is not None:
        cleaned = form.clean_step(1, request.POST, {})
        raw.update(cleaned.raw)
        if not cleaned.ok:
            return _show(
                request, view, failed=transition_id, errors=cleaned.errors, raw=raw, status=400
            )
        inputs = cleaned.data
    try:
        services.take_transition(
            Actor.from_request(request),
            case.pk,
            transition_id,
            inputs=inputs,
            opinion=opinion,
            expected_version=_int(request.POST.get("expected_version")),
        )
    except ValidationError as exc:
        errors = _messages(exc)
        return _show(request, view, failed=transition_id, errors=errors, raw=raw, status=400)
    except (services.CaseError, PermissionDenied) as exc:
        messages.error(request, str(exc))
        return _back(case.pk)
    messages.success(
        request,
        _("Done: %(step)s.") % {"step": workflow.text(transition.get("label")) or transition_id},
    )
    return _back(case.pk)


def _task_action(request: HttpRequest, case_id: int, action: Any, done: str) -> HttpResponse:
    case = _official_case(request, case_id).case
    task = getattr(case, "task", None)
    if task is None:
        messages.error(request, _("The case has no open task."))
        return _back(case.pk)
    try:
        action(Actor.from_request(request), task.pk)
    except (services.CaseError, PermissionDenied) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return _back(case.pk)


@loa.require_level(loa.TWO_FACTOR)
@require_POST
def claim(request: HttpRequest, case_id: int) -> HttpResponse:
    return _task_action(request, case_id, services.claim, _("The task is now yours."))


@loa.require_level(loa.TWO_FACTOR)
@require_POST
def release(request: HttpRequest, case_id: int) -> HttpResponse:
    return _task_action(request, case_id, services.release, _("The task is back in the queue."))


@loa.require_level(loa.TWO_FACTOR)
@require_POST
def comment(request: HttpRequest, case_id: int) -> HttpResponse:
    view = _official_case(request, case_id)
    text = request.POST.get("text", "")
    internal = request.POST.get("public") != "1"
    try:
        services.comment(Actor.from_request(request), view.case.pk, text, internal=internal)
    except ValidationError as exc:
        error = next(iter(_messages(exc).values()))
        return _show(request, view, comment_error=error, raw={"text": text}, status=400)
    except (services.CaseError, PermissionDenied) as exc:
        messages.error(request, str(exc))
        return _back(view.case.pk)
    messages.success(request, _("The comment is on the timeline."))
    return _back(view.case.pk)
