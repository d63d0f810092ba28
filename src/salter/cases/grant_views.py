"""Who else may read a case: the page where a head of unit (or the authority's administrator)
lists the grants to a case, gives an official access by e-mail address and revokes it. Under
/official/cases/<id>/access/, behind the second-factor gate; anyone who may not give access
to the case gets 404, so the page never tells that an investigation exists."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from salter.cases import access as case_access
from salter.cases import grants, queries
from salter.cases.models import Case, CaseGrant
from salter.core import params
from salter.core.context import Actor
from salter.identity import loa
from salter.identity.models import User

FIELDS = ("email", "reason", "valid_until", "hidden_until")
FIELD_MAX = 10_000  # longer than any of them may be: the service says what is too long


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _granting_case(request: HttpRequest, case_id: int) -> Case:
    """The case, if the caller reads it through their own role and may give access to it."""
    found = case_access.visible_case(case_id, _user(request))
    if found is None or not found[1]:
        raise Http404
    case = found[0]
    if getattr(case, "access_grant", None) is not None or not getattr(
        case, "may_grant_access", False
    ):
        raise Http404
    return case


def _day_end(value: str) -> tuple[datetime | None, bool]:
    """The end of the day written as YYYY-MM-DD (midnight after it, local time), and whether
    what was written is a day at all ("" is no day and no mistake)."""
    if not value:
        return None, True
    try:
        day: date | None = parse_date(value)
    except ValueError:  # well formed but not a day, e.g. 2026-02-30
        day = None
    if day is None:
        return None, False
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min)), True


def _state(grant: CaseGrant, now: datetime) -> str:
    if grant.revoked_at is not None:
        return "revoked"
    if grant.valid_until is not None and grant.valid_until <= now:
        return "expired"
    return "active"


@loa.require_level(loa.TWO_FACTOR)
@require_http_methods(["GET", "POST"])
def access(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _granting_case(request, case_id)
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {k: params.text(request.POST, k, max_length=FIELD_MAX).strip() for k in FIELDS}
        grantee = None
        if not values["email"]:
            errors["email"] = _("Enter the official's e-mail address.")
        else:
            grantee = User.objects.filter(email__iexact=values["email"]).first()
            if grantee is None:
                errors["email"] = _("No official has this e-mail address.")
        valid_until, ok = _day_end(values["valid_until"])
        if not ok:
            errors["valid_until"] = _("Enter a date as YYYY-MM-DD.")
        hidden_until, ok = _day_end(values["hidden_until"])
        if not ok:
            errors["hidden_until"] = _("Enter a date as YYYY-MM-DD.")
        if not values["reason"] and "reason" not in errors:
            errors["reason"] = _("Write why this official needs to read the case.")
        if not errors:
            assert grantee is not None
            try:
                grants.grant_access(
                    Actor.from_request(request),
                    case,
                    grantee,
                    reason=values["reason"],
                    valid_until=valid_until,
                    hidden_until=hidden_until,
                )
            except ValidationError as exc:
                errors = {
                    ("email" if k == "user" else k): str(v[0]) for k, v in exc.message_dict.items()
                }
            except PermissionDenied:
                raise Http404 from None
            else:
                messages.success(
                    request,
                    _("%(name)s may now read this case.") % {"name": grantee.full_name},
                )
                return redirect("official:case_access", case_id=case.pk)
    now = timezone.now()
    return render(
        request,
        "cases/grants.html",
        {
            "case": case,
            "grants": [(g, _state(g, now)) for g in queries.case_grants(case)],
            "values": values,
            "errors": errors,
            "max_hidden_days": grants.MAX_HIDDEN_DAYS,
            "max_reason": grants.MAX_REASON,
        },
        status=400 if errors else 200,
    )


@loa.require_level(loa.TWO_FACTOR)
@require_POST
def revoke(request: HttpRequest, case_id: int, grant_id: int) -> HttpResponse:
    case = _granting_case(request, case_id)
    grant = CaseGrant.objects.filter(pk=grant_id, case=case).first()
    if grant is None:
        raise Http404
    try:
        grants.revoke_access(Actor.from_request(request), grant)
    except PermissionDenied:
        raise Http404 from None
    messages.success(request, _("The access is revoked."))
    return redirect("official:case_access", case_id=case.pk)
