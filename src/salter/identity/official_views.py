"""The official's side. Every path under /official/ passes the second-factor gate in
:class:`salter.identity.middleware.SessionPolicyMiddleware` before reaching these views."""

from __future__ import annotations

from itertools import groupby

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from salter.identity import loa
from salter.identity.models import Membership


@loa.require_level(loa.TWO_FACTOR)
def dashboard(request: HttpRequest) -> HttpResponse:
    memberships = (
        Membership.objects.filter(user_id=int(request.user.pk or 0))
        .select_related("unit__authority")
        .order_by("unit__authority__name", "unit__name")
    )
    by_authority = [
        (authority, list(items))
        for authority, items in groupby(memberships, key=lambda m: m.unit.authority)
    ]
    from salter.cases.official_views import queue_counts

    counts = queue_counts(request.user)  # type: ignore[arg-type]  # logged in: the gate
    rows = [(a, items, counts.get(a.pk)) for a, items in by_authority]
    return render(request, "identity/official_dashboard.html", {"by_authority": rows})
