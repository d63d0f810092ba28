"""``/api/v1/cases``: submit in one call, my cases, a case with its timeline, the officials'
queue, take a transition in one call. Thin: parse, call a service or a query, shape the answer.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status

from salter.cases import access, listeners, queries, services, workflow
from salter.cases.errors import AlreadyClaimed, AlreadyDone, CaseError
from salter.cases.models import Case, CaseEvent
from salter.catalog import queries as catalog_queries
from salter.core import errors, params
from salter.core.context import Actor
from salter.core.errors import ApiError
from salter.core.params import Id
from salter.identity import auth, fresh
from salter.identity.models import User

router = Router(tags=["cases"], auth=auth.AUTH)


# --- schemas --------------------------------------------------------------------------------


class SubmitIn(Schema):
    service: str = Field(description="`<authority code>/<service code>`", examples=["rpr/overtime"])
    data: dict[str, Any] = Field(description="The form's fields, as its JSON Schema describes.")
    idempotency_key: str = Field(
        min_length=8,
        max_length=100,
        description="Chosen by the client; a retry with the same key returns the same case.",
    )


class TransitionIn(Schema):
    inputs: dict[str, Any] = Field(default_factory=dict)
    opinion: str = Field(default="", max_length=10000)
    expected_state: str | None = Field(
        default=None, description="The state the caller saw; refused with 409 if it moved on."
    )
    expected_version: int | None = None
    second_factor_code: str = Field(
        default="",
        max_length=20,
        description=(
            "A step that signs an act releases the signer's key only with a fresh second "
            "factor: the current code of their authenticator app (or a recovery code). "
            "Without it: 401 `insufficient_user_authentication` with `max_age`."
        ),
    )


class ServiceRefOut(Schema):
    authority: str
    code: str
    name: str
    version: int


class TaskOut(Schema):
    id: int
    state: str
    roles: list[str]
    assignee: str | None
    due_at: date | None


class NextStepOut(Schema):
    id: str
    label: str
    roles: list[str]


class CaseOut(Schema):
    id: int
    registry_number: str
    service: ServiceRefOut
    state: str
    state_label: str
    submitted_at: datetime
    deadline_at: date | None
    deadline_paused: bool
    closed_at: datetime | None
    version: int
    task: TaskOut | None
    next_steps: list[NextStepOut]


class EventOut(Schema):
    id: int
    at: datetime
    kind: str
    transition_id: str
    from_state: str
    to_state: str
    actor: str | None
    actor_role: str
    unit: str | None
    opinion: str
    internal: bool
    payload: dict[str, Any]


class CaseDetailOut(CaseOut):
    data: dict[str, Any]
    inputs: dict[str, Any]
    timeline: list[EventOut]


class QueueItemOut(Schema):
    task: TaskOut
    case_id: int
    registry_number: str
    service: ServiceRefOut
    state_label: str
    overdue: bool
    near_deadline: bool


class QueueFilters(Schema):
    authority: Id | None = None
    state: str | None = None
    overdue: bool | None = None
    assigned_to_me: bool | None = None
    after: str | None = Field(
        default=None,
        max_length=40,
        description='The cursor of the next page, from the `Link: <…>; rel="next"` header of '
        "the page before (keyset paging; opaque — pass it back unchanged).",
    )
    limit: int = Field(default=50, ge=1, le=200)


# --- shaping --------------------------------------------------------------------------------


def _service(case: Case) -> dict[str, Any]:
    version = case.service_version
    service = version.service
    return {
        "authority": service.authority.code,
        "code": service.code,
        "name": service.display_name,
        "version": version.number,
    }


def _task(case: Case) -> dict[str, Any] | None:
    task = getattr(case, "task", None)
    if task is None:
        return None
    return {
        "id": task.pk,
        "state": task.state,
        "roles": task.roles,
        "assignee": task.assignee.full_name if task.assignee_id and task.assignee else None,
        "due_at": task.due_at,
    }


def _case(case: Case) -> dict[str, Any]:
    definition = case.service_version.definition
    steps = []
    if case.closed_at is None:
        steps = [
            {"id": t["id"], "label": workflow.text(t.get("label")), "roles": t["roles"]}
            for t in workflow.leaving(definition, case.state)
        ]
    return {
        "id": case.pk,
        "registry_number": case.registry_number,
        "service": _service(case),
        "state": case.state,
        "state_label": workflow.state_label(definition, case.state),
        "submitted_at": case.submitted_at,
        "deadline_at": case.deadline_at,
        "deadline_paused": case.paused_at is not None,
        "closed_at": case.closed_at,
        "version": case.version,
        "task": _task(case),
        "next_steps": steps,
    }


def _event(event: CaseEvent) -> dict[str, Any]:
    return {
        "id": event.pk,
        "at": event.at,
        "kind": event.kind,
        "transition_id": event.transition_id,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "actor": event.actor.full_name if event.actor is not None else None,
        "actor_role": event.actor_role,
        "unit": event.unit.display_name if event.unit is not None else None,
        "opinion": event.opinion,
        "internal": event.internal,
        "payload": event.payload,
    }


def _detail(view: queries.CaseView) -> dict[str, Any]:
    case = view.case
    return {
        **_case(case),
        "data": case.data,
        "inputs": case.inputs,
        "timeline": [_event(e) for e in view.events],
    }


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _refusal(exc: Exception) -> ApiError:
    if isinstance(exc, fresh.SecondFactorRequired):
        # RFC 9470: the caller's authentication is not fresh enough for this step.
        seconds = fresh.max_age()
        return ApiError(
            401,
            "insufficient_user_authentication",
            str(exc),
            details={"max_age": seconds, "field": "second_factor_code"},
            headers={
                "WWW-Authenticate": (
                    f'Bearer error="insufficient_user_authentication", max_age="{seconds}"'
                )
            },
        )
    if isinstance(exc, AlreadyDone):
        code = "already_claimed" if isinstance(exc, AlreadyClaimed) else "already_done"
        return ApiError(409, code, str(exc), details={"by": exc.by})
    if isinstance(exc, ValidationError):
        details = [
            {"field": field, "message": str(messages[0])}
            for field, messages in exc.message_dict.items()
        ]
        return errors.invalid_fields(details)
    if isinstance(exc, PermissionDenied):
        return ApiError(403, "forbidden", str(exc))
    return ApiError(409, "conflict", str(exc))


_REFUSED = (CaseError, ValidationError, PermissionDenied)


# --- routes ---------------------------------------------------------------------------------


@router.post(
    "",
    response={200: CaseDetailOut, 201: CaseDetailOut},
    summary="Submit an application (idempotent)",
)
def submit_case(request: HttpRequest, body: SubmitIn) -> Status[dict[str, Any]]:
    """Validates the data against the service's published form, registers the case with a
    registry number and starts its workflow. 201 with the new case; 200 with the same case
    when the idempotency key was used before (no second case, no second number)."""
    auth.require_scope(request, "write")
    authority_code, _sep, service_code = body.service.partition("/")
    version = catalog_queries.published_version(authority_code, service_code)
    if version is None:
        raise ApiError(404, "not_found", "No such published service.")
    auth.require_level(request, version.service.min_level_of_assurance)
    actor = Actor.from_request(request, via="api")
    try:
        case, created = services.submit(
            actor, version, body.data, idempotency_key=body.idempotency_key
        )
    except _REFUSED as exc:
        raise _refusal(exc) from None
    # The caller is the applicant and the case is in hand: no second look-up of it.
    return Status(201 if created else 200, _detail(queries.applicants_view(case)))


@router.get("", response=list[CaseOut], summary="My cases, newest first")
def list_my_cases(
    request: HttpRequest, limit: int = Query(50, ge=1, le=200)
) -> list[dict[str, Any]]:
    auth.require_scope(request, "read")
    return [_case(c) for c in queries.my_cases(_user(request), limit=limit)]


@router.get("/queue", response=list[QueueItemOut], summary="Officials: my work queue")
def work_queue(
    request: HttpRequest, response: HttpResponse, filters: Query[QueueFilters]
) -> list[dict[str, Any]]:
    """Open tasks whose roles the caller holds in the task's authority, earliest deadline
    first (none last), marked overdue or near the deadline (three working days or fewer).

    When more tasks follow, the answer carries a `Link: <…?after=<cursor>>; rel="next"` header:
    the same request with the cursor of the page's last task. Every page costs the same."""
    auth.require_scope(request, "read")
    wanted = filters.dict()
    wanted.pop("after")
    after = params.cursor(request.GET, "after", queries.decode_position)
    limit = wanted.pop("limit")
    items = queries.work_queue(_user(request), **wanted, after=after, limit=limit + 1)
    if len(items) > limit:
        items = items[:limit]
        following = request.GET.copy()
        following["after"] = queries.encode_position(queries.queue_position(items[-1]))
        response["Link"] = f'<{request.path}?{following.urlencode()}>; rel="next"'
    return [
        {
            "task": _task(item.case),
            "case_id": item.case.pk,
            "registry_number": item.case.registry_number,
            "service": _service(item.case),
            "state_label": queries.state_label(item.case),
            "overdue": item.overdue,
            "near_deadline": item.near_deadline,
        }
        for item in items
    ]


@router.get("/{case_id}", response=CaseDetailOut, summary="A case with its timeline")
def get_case(request: HttpRequest, case_id: Id) -> dict[str, Any]:
    """The applicant sees the whole timeline except internal comments; officials of the
    authority see everything. Anyone else gets 404, as if the case did not exist."""
    auth.require_scope(request, "read")
    view = queries.case_with_timeline(case_id, _user(request))
    if view is None:
        raise ApiError(404, "not_found", "No such case.")
    if view.as_official:  # an official's or API client's read (docs/data-tracker.md)
        listeners.read(request, view.case)
    return _detail(view)


@router.post(
    "/{case_id}/transitions/{transition_id}",
    response=CaseDetailOut,
    summary="Take a step of the workflow",
)
def take_transition(
    request: HttpRequest, case_id: Id, transition_id: str, body: TransitionIn
) -> dict[str, Any]:
    """409 `already_done` when the case moved on first (the message names who and when)."""
    auth.require_scope(request, "write")
    user = _user(request)
    if access.visible_case(case_id, user) is None:
        raise ApiError(404, "not_found", "No such case.")
    confirmation = fresh.from_code(user, body.second_factor_code)
    try:
        services.take_transition(
            Actor.from_request(request, via="api"),
            case_id,
            transition_id,
            inputs=body.inputs,
            opinion=body.opinion,
            expected_state=body.expected_state,
            expected_version=body.expected_version,
            confirmation=confirmation,
        )
    except _REFUSED as exc:
        raise _refusal(exc) from None
    view = queries.case_with_timeline(case_id, user)
    assert view is not None
    if view.as_official:  # the answer carries the case's data: a read
        listeners.read(request, view.case)
    return _detail(view)
