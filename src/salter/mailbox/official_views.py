"""The officials' e-mailbox pages, under /official/mailbox/ (behind the second-factor gate):
letters the authority received through the e-mailbox, its deliveries — those waiting for the
post first of all — and one delivery with its sealed timeline, the act to print and the form
that records the day of postal delivery.

Only officials of the authority see its letters and deliveries; anyone else gets 404.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from salter.authorities.models import Authority
from salter.core import params
from salter.core.context import Actor
from salter.documents import queries as document_queries
from salter.documents.services import read_version
from salter.exchange import reads
from salter.identity import loa
from salter.identity.models import User
from salter.mailbox import delivery as deliveries
from salter.mailbox import queries
from salter.mailbox.forms import PostalForm
from salter.mailbox.models import Delivery, Message
from salter.mailbox.views import EVIDENCE_TYPES, evidence_response


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _authorities(request: HttpRequest) -> list[Authority]:
    mine = queries.official_authorities(_user(request))
    if not mine:
        raise Http404
    return mine


def _chosen(request: HttpRequest) -> tuple[Authority, list[Authority]]:
    mine = _authorities(request)
    wanted = params.optional_id(request.GET, "authority")
    return next((a for a in mine if a.pk == wanted), mine[0]), mine


def _pages(
    request: HttpRequest, query: dict[str, Any], found: queries.Page, before: Any
) -> dict[str, str]:
    kept = {k: v for k, v in query.items() if v}
    return {
        "next_url": "?" + urlencode({**kept, "before": found.next_cursor})
        if found.next_cursor
        else "",
        "first_url": ("?" + urlencode(kept) if kept else request.path) if before else "",
    }


# --- letters ---------------------------------------------------------------------------------


@loa.require_level(loa.TWO_FACTOR)
@require_GET
def letters(request: HttpRequest) -> HttpResponse:
    """Letters received, newest first, 50 a page (keyset paging with ``before``); ``kind``
    "case" or "new" filters those in a case or not."""
    authority, authorities = _chosen(request)
    kind = params.choice(request.GET, "kind", queries.LETTER_KINDS)
    before = params.cursor(request.GET, "before", queries.decode_cursor)
    found = queries.letters(authority, kind=kind, before=before)
    keeper = any(a.pk == authority.pk for a in document_queries.keeper_authorities(_user(request)))
    query = {"authority": authority.pk if len(authorities) > 1 else "", "kind": kind}
    return render(
        request,
        "mailbox/official/letters.html",
        {
            "authority": authority,
            "authorities": authorities,
            "kind": kind,
            "rows": [(m, queries.recipient(m.mailbox)) for m in found.rows],
            "keeper": keeper,
            **_pages(request, query, found, before),
        },
    )


def _letter(request: HttpRequest, message_id: int) -> Message:
    ids = [a.pk for a in _authorities(request)]
    message = queries.official_letter(ids, message_id)
    if message is None:
        raise Http404
    return message


@loa.require_level(loa.TWO_FACTOR)
@require_GET
def letter(request: HttpRequest, message_id: int) -> HttpResponse:
    message = _letter(request, message_id)
    keeper = any(
        a.pk == message.authority_id for a in document_queries.keeper_authorities(_user(request))
    )
    reads.message_read(request, message, items=["sender", "subject", "text", "attachments"])
    return render(
        request,
        "mailbox/official/letter.html",
        {
            "message": message,
            "sender": queries.recipient(message.mailbox),
            "files": queries.attachments(message),
            "keeper": keeper,
        },
    )


@loa.require_level(loa.TWO_FACTOR)
@require_GET
def letter_file(request: HttpRequest, message_id: int, number: int) -> HttpResponseBase:
    """A file attached to the letter; the download is written to the audit log."""
    message = _letter(request, message_id)
    if message.document is None or not any(
        f.number == number for f in queries.attachments(message)
    ):
        raise Http404
    response = read_version(
        Actor.from_request(request), message.document, number, message=message.pk
    )
    if response is None:  # pragma: no cover
        raise Http404
    reads.message_read(
        request,
        message,
        items=[f"document:{message.document.registry_number}"],
        action=reads.Action.DOCUMENT_READ,
    )
    return response


# --- deliveries ------------------------------------------------------------------------------

STATE_FILTERS = ("waiting", Delivery.State.POSTAL.value)


@loa.require_level(loa.TWO_FACTOR)
@require_GET
def delivery_list(request: HttpRequest) -> HttpResponse:
    """The authority's deliveries, newest first; ``state``: "postal" (waiting for the post),
    "waiting" (not yet in effect) or any state."""
    authority, authorities = _chosen(request)
    state = params.choice(request.GET, "state", (*STATE_FILTERS, *Delivery.State.values))
    before = params.cursor(request.GET, "before", queries.decode_cursor)
    found = queries.authority_deliveries(authority, state=state, before=before)
    query = {"authority": authority.pk if len(authorities) > 1 else "", "state": state}
    return render(
        request,
        "mailbox/official/deliveries.html",
        {
            "authority": authority,
            "authorities": authorities,
            "state": state,
            "states": Delivery.State.choices,
            "rows": [
                (m, m.delivery, queries.words(m.delivery), queries.recipient(m.mailbox))
                for m in found.rows
            ],
            **_pages(request, query, found, before),
        },
    )


def _delivery(request: HttpRequest, delivery_id: int) -> Delivery:
    ids = [a.pk for a in _authorities(request)]
    found = queries.official_delivery(ids, delivery_id)
    if found is None:
        raise Http404
    return found


def _show(
    request: HttpRequest, delivery: Delivery, form: PostalForm | None = None, status: int = 200
) -> HttpResponse:
    waiting = delivery.channel == Delivery.Channel.POSTAL and delivery.effective_at is None
    files = queries.attachments(delivery.message)
    reads.message_read(
        request, delivery.message, items=["recipient", "delivery"], purpose="delivery"
    )
    return render(
        request,
        "mailbox/official/delivery.html",
        {
            "delivery": delivery,
            "message": delivery.message,
            "recipient": queries.recipient(delivery.message.mailbox),
            "state": queries.words(delivery),
            "steps": queries.timeline(delivery),
            "act": files[0] if files else None,
            "waiting_for_post": waiting,
            "form": (form or PostalForm()) if waiting else None,
        },
        status=status,
    )


@loa.require_level(loa.TWO_FACTOR)
@require_GET
def delivery_detail(request: HttpRequest, delivery_id: int) -> HttpResponse:
    return _show(request, _delivery(request, delivery_id))


@loa.require_level(loa.TWO_FACTOR)
@require_GET
def delivery_act(request: HttpRequest, delivery_id: int) -> HttpResponseBase:
    """The issued act, to print for postal delivery; the download is audited."""
    delivery = _delivery(request, delivery_id)
    files = queries.attachments(delivery.message)
    document = delivery.message.document
    if not files or document is None:
        raise Http404
    response = read_version(
        Actor.from_request(request), document, files[0].number, delivery=delivery.pk
    )
    if response is None:  # pragma: no cover
        raise Http404
    reads.message_read(
        request,
        delivery.message,
        items=[f"document:{document.registry_number}"],
        action=reads.Action.DOCUMENT_READ,
        purpose="delivery",
    )
    return response


@loa.require_level(loa.TWO_FACTOR)
@require_GET
def delivery_evidence(
    request: HttpRequest, delivery_id: int, seq: int, fmt: str
) -> HttpResponseBase:
    delivery = _delivery(request, delivery_id)
    event = queries.event(delivery, seq) if fmt in EVIDENCE_TYPES else None
    if event is None:
        raise Http404
    reads.message_read(
        request, delivery.message, items=["recipient", "delivery evidence"], purpose="delivery"
    )
    return evidence_response(event, fmt)


@loa.require_level(loa.TWO_FACTOR)
@require_POST
def record_postal(request: HttpRequest, delivery_id: int) -> HttpResponse:
    """ "Delivered by post on <day>": the delivery takes effect on that day."""
    delivery = _delivery(request, delivery_id)
    form = PostalForm(request.POST)
    if not form.is_valid():
        return _show(request, delivery, form, status=400)
    try:
        deliveries.record_postal(
            Actor.from_request(request), delivery, form.cleaned_data["delivered_on"]
        )
    except ValidationError as exc:
        problems = getattr(exc, "message_dict", {}).get("delivered_on")
        if problems:
            form.add_error("delivered_on", problems[0])
            return _show(request, delivery, form, status=400)
        messages.error(request, " ".join(exc.messages))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The postal delivery is recorded."))
    return redirect("official:mailbox_delivery", delivery_id=delivery.pk)
