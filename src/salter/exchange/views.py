"""The citizen's pages of their data, under /my/data/: "Who accessed my data" (the access log
of reads of their data by officials, API clients and registers, newest first, keyset-paged),
and the download of everything held about them as JSON or PDF.

The person is the logged-in user's (``user.person``); a user the platform never attributed a
read to has an empty log. Server-rendered, no JavaScript.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from salter.core import params
from salter.core.context import Actor
from salter.exchange import export, queries
from salter.identity.models import User


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


@require_GET
@login_required
def access_log(request: HttpRequest) -> HttpResponse:
    """Reads of the user's data, newest first, 20 a page; ``authority`` filters by the
    reading authority, "Older reads" carries the last one's position in ``before``."""
    user = _user(request)
    authority = params.optional_id(request.GET, "authority")
    before = params.cursor(request.GET, "before", queries.decode_cursor)
    found = queries.page(user.person_id, authority=authority, before=before)
    kept = {"authority": authority} if authority else {}
    return render(
        request,
        "exchange/access_log.html",
        {
            "entries": [queries.entry(r, user.pk) for r in found.rows],
            "authorities": queries.authorities(),
            "authority": authority,
            "next_url": "?" + urlencode({**kept, "before": found.next_cursor})
            if found.next_cursor
            else "",
            "first_url": ("?" + urlencode(kept) if kept else request.path)
            if before is not None
            else "",
        },
    )


def _download(content: bytes, content_type: str, extension: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    name = f"salter-moji-podaci-{timezone.localdate():%Y-%m-%d}.{extension}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
@login_required
def export_json(request: HttpRequest) -> HttpResponse:
    """Everything held about the user, as JSON (audited)."""
    user = _user(request)
    content = export.as_json(export.collect(user))
    export.record_export(Actor.from_request(request), "json")
    return _download(content, "application/json", "json")


@require_GET
@login_required
def export_pdf(request: HttpRequest) -> HttpResponse:
    """Everything held about the user, as a readable PDF (audited)."""
    user = _user(request)
    content = export.as_pdf(user, latin=getattr(request, "latin_script", False))
    export.record_export(Actor.from_request(request), "pdf")
    return _download(content, "application/pdf", "pdf")
