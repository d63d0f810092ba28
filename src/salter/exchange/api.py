"""``/api/v1/access-log`` and ``/api/v1/my-data``: the caller's own data, for the mobile app.

"Who accessed my data" as the portal page shows it (newest first, keyset-paged with a
``Link: rel="next"`` header), and everything held about the caller as JSON (audited). A citizen's
session or an API token with the ``read`` scope; the caller only ever sees their own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema

from salter.core import params
from salter.core.context import Actor
from salter.core.params import Id
from salter.exchange import export, queries
from salter.identity import auth
from salter.identity.models import User

router = Router(tags=["my data"], auth=auth.AUTH)


class AccessFilters(Schema):
    authority: Id | None = Field(default=None, description="Only the reads of this authority.")
    after: str | None = Field(
        default=None,
        max_length=80,
        description='The cursor of the next page, from the `Link: <…>; rel="next"` header of '
        "the page before (keyset paging; opaque — pass it back unchanged).",
    )
    limit: int = Field(default=queries.PAGE_SIZE, ge=1, le=queries.API_PAGE_MAX)


class AuthorityRef(Schema):
    id: int
    name: str


class CaseRef(Schema):
    id: int
    registry_number: str
    mine: bool = Field(description="The caller's own case (its detail is at /cases/{id}).")


class AccessEntryOut(Schema):
    id: int
    at: datetime
    action: str
    action_label: str
    reader: str = Field(description="The official, the API client or the system that read.")
    authority: AuthorityRef | None
    purpose: str
    purpose_text: str
    legal_basis: str
    items: list[str] = Field(description="Which data: a form's fields, a register's outputs.")
    case: CaseRef | None


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _entry(e: queries.Entry) -> dict[str, Any]:
    return {
        "id": e.id,
        "at": e.at,
        "action": e.action,
        "action_label": e.action_label,
        "reader": e.reader,
        "authority": {"id": e.authority_id, "name": e.authority} if e.authority_id else None,
        "purpose": e.purpose,
        "purpose_text": e.purpose_text,
        "legal_basis": e.legal_basis,
        "items": e.items,
        "case": {"id": e.case_id, "registry_number": e.case_number, "mine": e.own_case}
        if e.case_id
        else None,
    }


@router.get("/access-log", response=list[AccessEntryOut], summary="Who accessed my data")
def access_log(
    request: HttpRequest, response: HttpResponse, filters: Query[AccessFilters]
) -> list[dict[str, Any]]:
    """Reads of the caller's personal data by officials, API clients and registers, newest
    first. Reads hidden for an investigation appear once their date has passed. Every page
    costs the same: when more follow, `Link: <…?after=<cursor>>; rel="next"`."""
    auth.require_scope(request, "read")
    user = _user(request)
    before = params.cursor(request.GET, "after", queries.decode_cursor)
    found = queries.page(
        user.person_id, authority=filters.authority, before=before, limit=filters.limit
    )
    if found.next_cursor:
        following = request.GET.copy()
        following["after"] = found.next_cursor
        response["Link"] = f'<{request.path}?{following.urlencode()}>; rel="next"'
    return [_entry(queries.entry(r, user.pk)) for r in found.rows]


@router.get(
    "/my-data",
    response=dict[str, Any],
    summary="Everything held about me (JSON)",
)
def my_data(request: HttpRequest) -> HttpResponse:
    """The account, the person, mandates, cases with their form data and public timeline,
    documents, e-mailbox, fees, settings and the access log — the same as the portal's JSON
    download. Each call is written to the audit log."""
    auth.require_scope(request, "read")
    content = export.as_json(export.collect(_user(request)))
    export.record_export(Actor.from_request(request, via="api"), "json")
    answer = HttpResponse(content, content_type="application/json")
    answer["Cache-Control"] = "private, no-store"
    return answer
