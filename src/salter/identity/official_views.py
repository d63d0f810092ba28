"""The official's side. Every path under /official/ passes the second-factor gate in
:class:`salter.identity.middleware.SessionPolicyMiddleware` before reaching these views."""

from __future__ import annotations

from datetime import date
from itertools import groupby

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from salter.cases.official_views import queue_counts
from salter.cases.queries import escalated_count
from salter.core import params
from salter.core.context import Actor
from salter.identity import loa, services
from salter.identity.models import Delegation, Membership, User
from salter.payments.services import PAYMENT_ROLES


@loa.require_level(loa.TWO_FACTOR)
def dashboard(request: HttpRequest) -> HttpResponse:
    memberships = (
        Membership.objects.in_force()
        .filter(user_id=int(request.user.pk or 0))
        .select_related("unit__authority")
        .order_by("unit__authority__name", "unit__name")
    )
    by_authority = [
        (authority, list(items))
        for authority, items in groupby(memberships, key=lambda m: m.unit.authority)
    ]
    counts = queue_counts(request.user)  # type: ignore[arg-type]  # logged in: the gate
    rows = [(a, items, counts.get(a.pk)) for a, items in by_authority]
    flagged = escalated_count(request.user)  # type: ignore[arg-type]
    return render(
        request,
        "identity/official_dashboard.html",
        {"by_authority": rows, "flagged": flagged, "payment_roles": list(PAYMENT_ROLES)},
    )


# --- deputies and delegations -----------------------------------------------------------------


@loa.require_level(loa.TWO_FACTOR)
@require_http_methods(["GET", "POST"])
def delegations(request: HttpRequest) -> HttpResponse:
    """The official's deputies and delegations: those they gave, those they hold, and (for
    heads of unit and administrators) those of their authorities; a form to appoint one."""
    user = request.user
    assert isinstance(user, User)
    appointing = services.appointing_authorities(user)
    mine = (
        Membership.objects.in_force().filter(user=user).values_list("unit__authority_id", flat=True)
    )
    authorities = set(mine)
    # Whose roles the form offers: one's own, or anyone's in the authorities one appoints in.
    memberships = (
        Membership.objects.in_force()
        .filter(Q(user=user) | Q(unit__authority_id__in=appointing))
        .select_related("user", "unit__authority")
        .order_by("unit__authority__name", "unit__name", "user__full_name", "role")
    )
    officials = (
        User.objects.filter(
            kind=User.Kind.OFFICIAL,
            is_active=True,
            memberships__unit__authority_id__in=authorities,
        )
        .distinct()
        .order_by("full_name")
    )
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    if request.method == "POST":
        values = {
            k: params.text(request.POST, k, max_length=FIELD_MAX).strip() for k in DELEGATION_FIELDS
        }
        chosen = params.optional_id(request.POST, "membership") or 0
        membership = memberships.filter(pk=chosen).first()
        delegate = officials.filter(pk=params.optional_id(request.POST, "delegate") or 0).first()
        until = _date(values["valid_until"])
        if membership is None:
            errors["membership"] = _("Choose whose role is handed on.")
        if delegate is None:
            errors["delegate"] = _("Choose who stands in.")
        if until is None:
            errors["valid_until"] = _("Enter a date as YYYY-MM-DD.")
        if not errors:
            assert membership is not None and delegate is not None and until is not None
            try:
                services.delegate_role(
                    Actor.from_request(request),
                    principal=membership.user,
                    delegate=delegate,
                    unit=membership.unit,
                    role=membership.role,
                    kind=values["kind"],
                    valid_until=until,
                    reason=values["reason"],
                )
            except ValidationError as exc:
                errors = {
                    ("membership" if k == "role" else k): str(v[0])
                    for k, v in exc.message_dict.items()
                }
            except PermissionDenied as exc:
                errors["membership"] = str(exc)
            else:
                messages.success(request, _("The stand-in is recorded."))
                return redirect("official:delegations")
    listed = (
        Delegation.objects.filter(
            Q(principal=user) | Q(delegate=user) | Q(unit__authority_id__in=appointing)
        )
        .select_related("principal", "delegate", "unit__authority")
        .order_by("-valid_until", "-id")[:200]
    )
    today = timezone.localdate()
    return render(
        request,
        "identity/official_delegations.html",
        {
            "delegations": [
                (d, d.revoked_at is None and d.valid_from <= today <= d.valid_until) for d in listed
            ],
            "memberships": memberships,
            "officials": officials,
            "kinds": Delegation.Kind.choices,
            "errors": errors,
            "values": values,
        },
        status=400 if errors else 200,
    )


DELEGATION_FIELDS = ("membership", "delegate", "kind", "valid_until", "reason")
FIELD_MAX = 1000  # longer than any of them may be: the service says what is too long


@loa.require_level(loa.TWO_FACTOR)
@require_POST
def revoke_delegation(request: HttpRequest, delegation_id: int) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    delegation = (
        Delegation.objects.filter(pk=delegation_id)
        .filter(Q(principal=user) | Q(unit__authority_id__in=services.appointing_authorities(user)))
        .first()
    )
    if delegation is None:
        raise Http404
    services.revoke_delegation(Actor.from_request(request), delegation)
    messages.success(request, _("The stand-in is ended."))
    return redirect("official:delegations")


def _date(value: str) -> date | None:
    try:
        return parse_date(value)
    except ValueError:  # well formed but not a day, e.g. 2026-02-30
        return None
