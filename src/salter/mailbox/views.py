"""The citizen's e-mailbox pages, under /mailbox/: the list of messages (received and sent), one
message (opening it is the "opened" step of a delivery; accept or refuse it; the receipt of a
sent letter), downloads of the document and of each delivery step's evidence, writing to an
authority, consent to electronic communication (ZUP art. 57).

Every logged-in user has a mailbox of their own, and reads those of the businesses they hold a
mandate for (a switcher on the list). A message of a mailbox the caller does not read is 404,
as if it did not exist. Server-rendered, no JavaScript; each POST redirects (post/redirect/get)
or shows its form again with the errors beside the fields (400).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from salter.core import params
from salter.core.context import Actor
from salter.documents.services import read_version
from salter.identity.models import User
from salter.mailbox import delivery as deliveries
from salter.mailbox import queries, services
from salter.mailbox.forms import ConsentForm, LetterForm, RefuseForm, new_key
from salter.mailbox.models import Consent, Delivery, DeliveryEvent, Mailbox, Message


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _boxes(request: HttpRequest) -> tuple[Mailbox, list[Mailbox]]:
    """The mailbox chosen with ``?box=`` (or the POSTed ``box``) among those the user reads;
    their own by default."""
    boxes = services.mailboxes_for(_user(request))
    wanted = params.optional_id(request.GET, "box") or params.optional_id(request.POST, "box")
    return next((b for b in boxes if b.pk == wanted), boxes[0]), boxes


def _box_label(box: Mailbox) -> str:
    if box.company_id is not None:
        return str(box.company)
    return _("My mailbox")


def _switcher(boxes: list[Mailbox], counts: dict[int, int] | None = None) -> list[dict[str, Any]]:
    return [
        {"box": b, "label": _box_label(b), "unread": (counts or {}).get(b.pk, 0)} for b in boxes
    ]


# --- the list --------------------------------------------------------------------------------


@require_GET
@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """Received and sent messages, newest first, 20 a page; "Older messages" carries the last
    one's position in ``before`` (keyset paging)."""
    box, boxes = _boxes(request)
    before = params.cursor(request.GET, "before", queries.decode_cursor)
    found = queries.page(box, before)
    counts = queries.unread_counts(boxes) if len(boxes) > 1 else None
    query = f"?box={box.pk}&" if len(boxes) > 1 else "?"
    return render(
        request,
        "mailbox/inbox.html",
        {
            "box": box,
            "box_label": _box_label(box),
            "boxes": _switcher(boxes, counts) if len(boxes) > 1 else [],
            "rows": [
                (m, queries.words(m.delivery) if _has_delivery(m) else "") for m in found.rows
            ],
            "next_url": f"{query}before={found.next_cursor}" if found.next_cursor else "",
            "first_url": (query.rstrip("&?") or "?") if before is not None else "",
        },
    )


def _has_delivery(message: Message) -> bool:
    try:
        return message.delivery is not None
    except Delivery.DoesNotExist:
        return False


# --- one message -----------------------------------------------------------------------------


def _message(request: HttpRequest, message_id: int) -> Message:
    """The message if it is in a mailbox the user reads, else 404."""
    message = queries.message_in(services.mailboxes_for(_user(request)), message_id)
    if message is None:
        raise Http404
    return message


def _show(
    request: HttpRequest, message: Message, *, refuse: RefuseForm | None = None, status: int = 200
) -> HttpResponse:
    delivery = message.delivery if _has_delivery(message) else None
    steps = queries.timeline(delivery) if delivery is not None else []
    answerable = (
        delivery is not None
        and delivery.channel == Delivery.Channel.ELECTRONIC
        and delivery.answered_at is None
    )
    return render(
        request,
        "mailbox/message.html",
        {
            "message": message,
            "delivery": delivery,
            "state": queries.words(delivery) if delivery is not None else "",
            "steps": steps,
            "files": queries.attachments(message),
            "answerable": answerable,
            "refuse_form": refuse or RefuseForm(),
            "box_label": _box_label(message.mailbox),
        },
        status=status,
    )


@require_GET
@login_required
def message_detail(request: HttpRequest, message_id: int) -> HttpResponse:
    """Opening the page opens the message: marked read; for a delivery, the "opened" step."""
    message = _message(request, message_id)
    delivery = message.delivery if _has_delivery(message) else None
    unopened = delivery is not None and (
        delivery.opened_at is None and delivery.channel == Delivery.Channel.ELECTRONIC
    )
    if message.read_at is None or unopened:
        deliveries.opened(Actor.from_request(request), message)
        message = _message(request, message_id)
    return _show(request, message)


@require_POST
@login_required
def answer(request: HttpRequest, message_id: int) -> HttpResponse:
    """Accept or refuse (with a reason) a delivery: once, and recorded as evidence."""
    message = _message(request, message_id)
    if not _has_delivery(message):
        raise Http404
    accept = params.choice(request.POST, "action", ("accept", "refuse")) == "accept"
    form = RefuseForm(request.POST) if not accept else None
    if form is not None and not form.is_valid():
        return _show(request, message, refuse=form, status=400)
    reason = form.cleaned_data["reason"] if form is not None else ""
    try:
        deliveries.answer(
            Actor.from_request(request), message.delivery, accept=accept, reason=reason
        )
    except ValidationError as exc:
        if form is not None and "reason" in getattr(exc, "message_dict", {}):
            form.add_error("reason", exc.message_dict["reason"][0])
            return _show(request, message, refuse=form, status=400)
        messages.error(request, " ".join(exc.messages))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("You accepted the document.") if accept else _("Your refusal is on record."),
        )
    return redirect("mailbox:message", message_id=message.pk)


# --- downloads -------------------------------------------------------------------------------


@require_GET
@login_required
def document(request: HttpRequest, message_id: int, number: int | None = None) -> HttpResponseBase:
    """The delivered act (its issued PDF) or a file attached to a sent letter; each download is
    a read of the registry entry, written to the audit log."""
    message = _message(request, message_id)
    files = queries.attachments(message)
    if number is None:  # the act as issued, or the letter's first file
        chosen = files[0] if files else None
    else:
        chosen = next((f for f in files if f.number == number), None)
    if chosen is None or message.document is None:
        raise Http404
    response = read_version(
        Actor.from_request(request), message.document, chosen.number, message=message.pk
    )
    if response is None:  # pragma: no cover — the version was just read
        raise Http404
    return response


EVIDENCE_TYPES = {"json": "application/json", "p7s": "application/pkcs7-signature"}


def evidence_response(event: DeliveryEvent, fmt: str) -> HttpResponse:
    """A step's record (the exact bytes that were sealed) or its detached seal, to keep."""
    if fmt == "json":
        body = event.record.encode()
    else:
        body = bytes(event.signature)
    response = HttpResponse(body, content_type=EVIDENCE_TYPES[fmt])
    filename = f"delivery-{event.delivery_id}-step-{event.seq}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
@login_required
def evidence(request: HttpRequest, message_id: int, seq: int, fmt: str) -> HttpResponse:
    message = _message(request, message_id)
    if not _has_delivery(message) or fmt not in EVIDENCE_TYPES:
        raise Http404
    event = queries.event(message.delivery, seq)
    if event is None:
        raise Http404
    return evidence_response(event, fmt)


# --- writing to an authority -----------------------------------------------------------------


FIELD_OF_ERROR = {"files": "attachments"}  # the service's name → the form's


@require_http_methods(["GET", "POST"])
@login_required
def write(request: HttpRequest) -> HttpResponse:
    """A letter to an authority; the hidden key makes a double submit register it once."""
    user = _user(request)
    box, boxes = _boxes(request)
    cases = queries.open_cases(user) if box.user_id == user.pk else []
    if request.method == "POST":
        form = LetterForm(request.POST, request.FILES, user=user, cases=cases)
        if form.is_valid():
            data = form.cleaned_data
            try:
                message, created = services.send_letter(
                    Actor.from_request(request),
                    box,
                    data["authority"],
                    subject=data["subject"],
                    body=data["body"],
                    files=data["attachments"],
                    case=data["case"],
                    idempotency_key=data["idempotency_key"],
                )
            except ValidationError as exc:
                for field, problems in exc.message_dict.items():
                    field = FIELD_OF_ERROR.get(field, field)
                    form.add_error(field if field in form.fields else None, problems)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                if created:
                    number = message.document.registry_number if message.document else ""
                    messages.success(
                        request,
                        _("Your letter has been registered under number %(number)s.")
                        % {"number": number},
                    )
                return redirect("mailbox:message", message_id=message.pk)
        status = 400
    else:
        initial: dict[str, Any] = {"idempotency_key": new_key()}
        wanted = params.optional_id(request.GET, "case")
        case = next((c for c in cases if c.pk == wanted), None)
        if case is not None:
            initial.update(case=case.pk, authority=case.authority_id)
        form = LetterForm(initial=initial, user=user, cases=cases)
        status = 200
    return render(
        request,
        "mailbox/write.html",
        {"form": form, "box": box, "box_label": _box_label(box), "several": len(boxes) > 1},
        status=status,
    )


# --- consent ---------------------------------------------------------------------------------


def _consent_page(
    request: HttpRequest, box: Mailbox, boxes: list[Mailbox], form: ConsentForm, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "mailbox/consent.html",
        {
            "box": box,
            "box_label": _box_label(box),
            "boxes": _switcher(boxes) if len(boxes) > 1 else [],
            "consents": queries.consents(box),
            "form": form,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@login_required
def consent(request: HttpRequest) -> HttpResponse:
    """What consent means, the consents in force, and giving one (every authority or one)."""
    box, boxes = _boxes(request)
    if request.method != "POST":
        return _consent_page(request, box, boxes, ConsentForm())
    form = ConsentForm(request.POST)
    if not form.is_valid():
        return _consent_page(request, box, boxes, form, status=400)
    authority = form.cleaned_data["authority"]
    try:
        services.give_consent(Actor.from_request(request), box, authority)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        if authority is None:
            messages.success(
                request,
                _("You consented to receive documents electronically from every authority."),
            )
        else:
            messages.success(
                request,
                _("You consented to receive documents electronically from %(authority)s.")
                % {"authority": authority.display_name},
            )
    return redirect(_consent_url(box, boxes))


def _consent_url(box: Mailbox, boxes: list[Mailbox]) -> str:
    url = reverse("mailbox:consent")
    return f"{url}?box={box.pk}" if len(boxes) > 1 else url


@require_POST
@login_required
def revoke(request: HttpRequest, consent_id: int) -> HttpResponse:
    boxes = services.mailboxes_for(_user(request))
    found = Consent.objects.filter(
        pk=consent_id, mailbox__in=[b.pk for b in boxes], revoked_at__isnull=True
    ).first()
    if found is None:
        raise Http404
    services.revoke_consent(Actor.from_request(request), found)
    messages.success(request, _("The consent is revoked."))
    box = next(b for b in boxes if b.pk == found.mailbox_id)
    return redirect(_consent_url(box, boxes))
