"""The official's decisions about evidence a register did not give, under /official/evidence/
(behind the second-factor gate of the officials' pages): ask again, let the applicant bring it,
decide without it. Each is a POST form on the case page that redirects back to it with a
message; the case page shows the panel (``exchange/evidence_panel.html``)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from salter.cases import access
from salter.core import params
from salter.core.context import Actor
from salter.exchange.evidence import services as evidence
from salter.exchange.models import EvidenceRequest
from salter.identity import loa
from salter.identity.models import User


def _case_id(request: HttpRequest, evidence_id: int) -> int:
    """The case of the evidence if the official may see it, else 404: an official of another
    authority (or below the case's clearance) is never told that it exists."""
    user = request.user
    assert isinstance(user, User)
    case_id = (
        EvidenceRequest.objects.filter(pk=evidence_id).values_list("case_id", flat=True).first()
    )
    found = access.visible_case(case_id, user) if case_id is not None else None
    if case_id is None or found is None or not found[1]:
        raise Http404
    return case_id


def _decide(
    request: HttpRequest, evidence_id: int, action: Callable[[Actor], object], done: str
) -> HttpResponse:
    case_id = _case_id(request, evidence_id)
    try:
        action(Actor.from_request(request))
    except (evidence.EvidenceError, PermissionDenied) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return redirect(reverse("official:case", args=[case_id]) + "#evidence-title")


@loa.require_level(loa.TWO_FACTOR)
@require_POST
def ask_again(request: HttpRequest, evidence_id: int) -> HttpResponse:
    return _decide(
        request,
        evidence_id,
        lambda actor: evidence.ask_again(actor, evidence_id),
        _("The register will be asked again."),
    )


@loa.require_level(loa.TWO_FACTOR)
@require_POST
def brought(request: HttpRequest, evidence_id: int) -> HttpResponse:
    return _decide(
        request,
        evidence_id,
        lambda actor: evidence.applicant_brings(actor, evidence_id),
        _("Recorded: the applicant brings this evidence."),
    )


@loa.require_level(loa.TWO_FACTOR)
@require_POST
def without(request: HttpRequest, evidence_id: int) -> HttpResponse:
    reason = params.text(request.POST, "reason", max_length=10_000)
    return _decide(
        request,
        evidence_id,
        lambda actor: evidence.decide_without(actor, evidence_id, reason),
        _("Recorded: the case is decided without this evidence."),
    )
