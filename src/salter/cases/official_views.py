"""The officials' pages of cases, under /official/cases/ (behind the second-factor gate of
:class:`salter.identity.middleware.SessionPolicyMiddleware`): the work queue, a case with its
full timeline, and the steps an official takes on it (transition, claim, release, comment).

Server-rendered, no JavaScript: every action is a POST form that redirects back to the case
with a message (post/redirect/get); a form with errors is shown again with them (400).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from salter.authorities.models import Authority
from salter.cases import access, listeners, queries, services, steps, workflow
from salter.cases.errors import CaseError
from salter.cases.models import CaseEvent, Task
from salter.catalog.forms import ServiceForm
from salter.catalog.models import ServiceVersion
from salter.core import params
from salter.core.context import Actor
from salter.identity import fresh, loa
from salter.identity.models import Membership, Role, User
from salter.identity.views import wrong_code_message

PAGE_SIZE = 50
ASSIGNED = {"mine": True, "unassigned": False}
PAGE_MAX = 1_000_000  # the number a page of the queue shows: only for the reader
TEXT_MAX = 100_000  # a comment longer than any the service takes: the service says so


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _memberships(user: User) -> Any:
    return Membership.objects.in_force().filter(user=user)


# --- the work queue ---------------------------------------------------------------------------


def queue_counts(user: User) -> dict[int, dict[str, int]]:
    """Per authority: the open tasks ``user`` may act on, how many are overdue and how many
    are assigned to them — one query for the roles, one for the counts."""
    scope = queries.queue_scope(user)  # the tasks of the queue: roles, units, clearances
    if scope is None:
        return {}
    authorities, where = scope
    today = timezone.localdate()
    rows = (
        Task.objects.filter(authority_id__in=authorities)
        .filter(where)
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
    parameters: ``authority``, ``state``, ``overdue=1``, ``assigned=mine|unassigned``; "Next
    page" carries the last task's position in ``after`` (keyset paging)."""
    user = _user(request)
    authorities = list(
        Authority.objects.filter(pk__in=_memberships(user).values("unit__authority_id")).order_by(
            "name"
        )
    )
    ids = [a.pk for a in authorities]
    authority = params.optional_id(request.GET, "authority")
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
    # A state the chosen authority's services do not have (the authority was changed in the
    # same form) shows every state, as does none.
    state = params.text(request.GET, "state", max_length=100) or None
    if state not in states:
        state = None
    overdue = True if params.choice(request.GET, "overdue", ("1",)) else None
    assigned = params.choice(request.GET, "assigned", ASSIGNED)
    # Keyset paging: ?after= is the opaque position of the previous page's last task, so a
    # deep page is read like the first one. ?page= only numbers the page for the reader.
    after = params.cursor(request.GET, "after", queries.decode_position)
    page = 1
    if after is not None:
        page = params.number(request.GET, "page", default=2, minimum=2, maximum=PAGE_MAX)
    items = queries.work_queue(
        user,
        authority=authority,
        state=state,
        overdue=overdue,
        assigned_to_me=ASSIGNED.get(assigned),
        after=after,
        limit=PAGE_SIZE + 1,
    )
    shown = items[:PAGE_SIZE]
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

    next_url = ""
    if len(items) > PAGE_SIZE:
        cursor = queries.encode_position(queries.queue_position(shown[-1]))
        next_url = "?" + urlencode({**filters, "after": cursor, "page": page + 1})
    first_url = ""
    if after is not None:
        first_url = reverse("official:case_queue") + ("?" + urlencode(filters) if filters else "")
    return render(
        request,
        "cases/official/queue.html",
        {
            "items": [(i, queries.state_label(i.case)) for i in shown],
            "authorities": authorities,
            "states": sorted(states.items(), key=lambda s: s[1]),
            "filters": filters,
            "page": page,
            "first_url": first_url,
            "next_url": next_url,
        },
    )


@loa.require_level(loa.TWO_FACTOR)
@require_GET
def escalated(request: HttpRequest) -> HttpResponse:
    """Overdue tasks flagged to the heads of unit by the escalation job (``cases.timers``)."""
    items = queries.escalated_tasks(_user(request))
    return render(
        request,
        "cases/official/escalated.html",
        {"items": [(i, queries.state_label(i.case)) for i in items]},
    )


# --- a case -----------------------------------------------------------------------------------


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
    # Showing the case is a read of its subjects' data (docs/data-tracker.md).
    listeners.read(request, case)
    # Only the roles whose seat reaches this case (unit, clearance); none under a grant.
    own, stand_in = access.case_roles(case, user)
    held = set(own)
    definition = case.service_version.definition
    task = getattr(case, "task", None) if case.closed_at is None else None
    may_claim = (
        task is not None
        and bool((held | stand_in) & set(task.roles))
        and task.assignee_id != user.pk
    )
    may_release = (
        task is not None
        and task.assignee_id is not None
        and (task.assignee_id == user.pk or "head_of_unit" in held)
    )
    heads = "head_of_unit" in held or "head_of_unit" in stand_in
    candidates = services.assignable(case, task.roles) if task is not None and heads else []
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
            "approval_step": workflow.text(e.payload.get("step_label"))
            if e.kind == CaseEvent.Kind.APPROVAL
            else "",
            "mark": steps.mark_text(
                str(e.payload.get("mark", "")), str(e.payload.get("principal", ""))
            ),
            "act": steps.act_text(e),
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
            "inputs": workflow.entered(definition, case.inputs),
            "events": events,
            "steps": steps.step_forms(
                case,
                lambda t: (
                    bool(held & set(workflow.acting_roles(t)) - {workflow.APPLICANT})
                    or bool(stand_in & set(workflow.acting_roles(t)))
                ),
                failed,
                errors,
                raw,
            ),
            "may_claim": may_claim,
            "candidates": candidates,
            "may_release": may_release,
            "comment_error": comment_error,
            "fresh_confirmation": fresh.waiting(request),
            # What the apps add: the acts, the deliveries (salter.cases.listeners).
            **listeners.page_sections(case, official=True),
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


@loa.require_level(loa.TWO_FACTOR)
@require_POST
def take(request: HttpRequest, case_id: int, transition_id: str) -> HttpResponse:
    view = _official_case(request, case_id)
    case = view.case
    transition = workflow.transition(case.service_version.definition, transition_id)
    if transition is None:
        raise Http404
    posted = steps.read(transition, request.POST)
    if posted.errors:
        return _show(
            request, view, failed=transition_id, errors=posted.errors, raw=posted.raw, status=400
        )
    code = params.text(request.POST, "second_factor_code", max_length=100)
    needs = listeners.needs_confirmation(transition)  # e.g. a step that signs
    confirmation = fresh.confirmation_for(request, code) if needs else None
    try:
        services.take_transition(
            Actor.from_request(request),
            case.pk,
            transition_id,
            inputs=posted.inputs,
            opinion=str(posted.raw["opinion"]),
            expected_version=params.optional_number(request.POST, "expected_version"),
            confirmation=confirmation,
        )
    except fresh.SecondFactorRequired as exc:
        message = wrong_code_message(_user(request)) if code.strip() else str(exc)
        errors = {"second_factor": message}
        return _show(request, view, failed=transition_id, errors=errors, raw=posted.raw, status=400)
    except ValidationError as exc:
        errors = steps.messages_of(exc)
        return _show(request, view, failed=transition_id, errors=errors, raw=posted.raw, status=400)
    except (CaseError, PermissionDenied) as exc:
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
    except (CaseError, PermissionDenied) as exc:
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
def assign(request: HttpRequest, case_id: int) -> HttpResponse:
    """A head of unit gives the task to a named official."""
    to = User.objects.filter(pk=params.optional_id(request.POST, "assignee") or 0).first()
    if to is None:
        messages.error(request, _("Choose whom to give the task to."))
        return _back(case_id)
    return _task_action(
        request,
        case_id,
        lambda actor, task_id: services.assign(actor, task_id, to),
        _("The task is now with %(name)s.") % {"name": to.full_name},
    )


@loa.require_level(loa.TWO_FACTOR)
@require_POST
def comment(request: HttpRequest, case_id: int) -> HttpResponse:
    view = _official_case(request, case_id)
    text = params.text(request.POST, "text", max_length=TEXT_MAX)
    internal = params.choice(request.POST, "public", ("1",)) != "1"
    try:
        services.comment(Actor.from_request(request), view.case.pk, text, internal=internal)
    except ValidationError as exc:
        error = next(iter(steps.messages_of(exc).values()))
        return _show(request, view, comment_error=error, raw={"text": text}, status=400)
    except (CaseError, PermissionDenied) as exc:
        messages.error(request, str(exc))
        return _back(view.case.pk)
    messages.success(request, _("The comment is on the timeline."))
    return _back(view.case.pk)
