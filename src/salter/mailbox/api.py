"""``/api/v1/mailbox``: the caller's e-mailbox — messages (keyset-paginated), one message
(reading it opens it, as the page does), sending a letter to an authority (JSON with base64
files, or multipart with the files streamed; idempotent), accepting or refusing a delivery,
consents to electronic delivery.

Scopes: ``read`` for the GETs, ``write`` for the rest. A message, delivery or consent outside the
mailboxes the caller reads is 404, as if it did not exist.
"""

from __future__ import annotations

import base64
import binascii
from datetime import date, datetime
from typing import Any

import pydantic
from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    TooManyFilesSent,
    ValidationError,
)
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from ninja import Field, Header, Query, Router, Schema, Status
from ninja.decorators import decorate_view

from salter.authorities.models import Authority
from salter.cases.models import Case
from salter.core import body_limits, errors, upload_limits
from salter.core.context import Actor
from salter.core.errors import ApiError
from salter.core.params import Id, Text, cursor
from salter.documents import uploads
from salter.documents.services import read_version
from salter.identity import auth
from salter.identity.models import User
from salter.mailbox import delivery as deliveries
from salter.mailbox import queries, services
from salter.mailbox.models import Consent, Delivery, Mailbox, Message

router = Router(tags=["mailbox"], auth=auth.AUTH)


# --- schemas --------------------------------------------------------------------------------


class AuthorityRefOut(Schema):
    code: str
    name: str


class DeliveryOut(Schema):
    id: int
    channel: str = Field(description="`electronic` (the e-mailbox) or `postal`")
    state: str
    state_label: str = Field(description="Where the delivery stands, in words")
    submitted_at: datetime
    delivered_at: datetime | None
    notified_at: datetime | None
    opened_at: datetime | None
    answered_at: datetime | None = Field(description="Accepted or refused")
    effective_at: datetime | None = Field(description="When delivery took legal effect")
    deemed_on: date | None = Field(description="Deemed delivered on this day if left unopened")


class MessageOut(Schema):
    id: int
    mailbox: int
    direction: str = Field(description="`inbound` (from an authority) or `outbound` (sent)")
    authority: AuthorityRefOut
    subject: str
    created_at: datetime
    read_at: datetime | None
    registry_number: str = Field(description="The registry entry (delovodni broj)")
    case_id: int | None
    delivery: DeliveryOut | None


class FileOut(Schema):
    number: int
    name: str
    content_type: str
    size: int
    sha256: str
    url: str = Field(description="`GET` it (same authentication) to download; audited")


class StepOut(Schema):
    seq: int
    state: str
    at: datetime
    digest: str = Field(description="SHA-256 of `record`, hex")
    record: str = Field(description="The canonical JSON record that was sealed (exact bytes)")
    seal: str = Field(description="The detached CMS signature (DER), base64")
    intact: bool = Field(description="The digest matches and the chain to the step before holds")
    sealed: bool = Field(description="The seal is valid over `record` and its certificate trusted")


class MessageDetailOut(MessageOut):
    body: str
    registered_at: datetime | None = Field(description="When the authority registered it")
    files: list[FileOut]
    steps: list[StepOut]


class FileIn(Schema):
    name: Text = Field(max_length=200, examples=["dopuna.pdf"])
    content_base64: str = Field(description="The file's bytes, base64 (PDF, PNG or JPEG)")


class LetterIn(Schema):
    authority: Text = Field(description="The authority's code", examples=["surdulica"])
    subject: Text = Field(max_length=services.MAX_SUBJECT)
    body: Text = Field(default="", max_length=services.MAX_BODY)
    case_id: Id | None = Field(default=None, description="One of your open cases there")
    files: list[FileIn] = Field(default_factory=list, max_length=services.MAX_FILES)
    mailbox: Id | None = Field(
        default=None, description="Send from a business's mailbox you hold a mandate for"
    )
    idempotency_key: Text | None = Field(
        default=None,
        max_length=100,
        description="Or the `Idempotency-Key` header: a retry with the same key returns the "
        "first letter (200) and registers nothing twice.",
    )


class RefuseIn(Schema):
    reason: str = Field(min_length=1, max_length=1000)


class ConsentOut(Schema):
    id: int
    mailbox: int
    authority: AuthorityRefOut | None = Field(description="null: every authority")
    given_at: datetime


class ConsentIn(Schema):
    authority: str | None = Field(default=None, description="The authority's code; null: all")
    mailbox: Id | None = None


class ListParams(Schema):
    mailbox: Id | None = Field(default=None, description="A business's mailbox; default: own")
    before: str | None = Field(
        default=None,
        max_length=80,
        description='The cursor of the next page, from the `Link: <…>; rel="next"` header of '
        "the page before (keyset paging; opaque — pass it back unchanged).",
    )
    limit: int = Field(default=queries.PAGE_SIZE, ge=1, le=100)


# --- shaping --------------------------------------------------------------------------------


def _authority(authority: Authority) -> dict[str, Any]:
    return {"code": authority.code, "name": authority.display_name}


def _delivery_of(message: Message) -> Delivery | None:
    try:
        return message.delivery
    except Delivery.DoesNotExist:
        return None


def _delivery(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.pk,
        "channel": delivery.channel,
        "state": delivery.state,
        "state_label": queries.words(delivery),
        "submitted_at": delivery.submitted_at,
        "delivered_at": delivery.delivered_at,
        "notified_at": delivery.notified_at,
        "opened_at": delivery.opened_at,
        "answered_at": delivery.answered_at,
        "effective_at": delivery.effective_at,
        "deemed_on": delivery.deemed_on,
    }


def _message(message: Message) -> dict[str, Any]:
    delivery = _delivery_of(message)
    return {
        "id": message.pk,
        "mailbox": message.mailbox_id,
        "direction": message.direction,
        "authority": _authority(message.authority),
        "subject": message.subject,
        "created_at": message.created_at,
        "read_at": message.read_at,
        "registry_number": message.document.registry_number if message.document else "",
        "case_id": message.case_id,
        "delivery": _delivery(delivery) if delivery is not None else None,
    }


def _detail(message: Message) -> dict[str, Any]:
    delivery = _delivery_of(message)
    steps = queries.timeline(delivery) if delivery is not None else []
    return {
        **_message(message),
        "body": message.body,
        "registered_at": message.document.registered_at if message.document else None,
        "files": [
            {
                "number": f.number,
                "name": f.original_name,
                "content_type": f.content_type,
                "size": f.size,
                "sha256": f.sha256,
                "url": f"/api/v1/mailbox/messages/{message.pk}/files/{f.number}",
            }
            for f in queries.attachments(message)
        ],
        "steps": [
            {
                "seq": s.event.seq,
                "state": s.event.state,
                "at": s.event.at,
                "digest": s.event.digest,
                "record": s.event.record,
                "seal": base64.b64encode(bytes(s.event.signature)).decode(),
                "intact": s.check.intact,
                "sealed": s.check.sealed,
            }
            for s in steps
        ],
    }


def _consent(consent: Consent) -> dict[str, Any]:
    return {
        "id": consent.pk,
        "mailbox": consent.mailbox_id,
        "authority": _authority(consent.authority) if consent.authority is not None else None,
        "given_at": consent.given_at,
    }


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _invalid(field: str, message: str) -> ApiError:
    return errors.invalid_fields([{"field": field, "message": message}])


def _refusal(exc: Exception) -> ApiError:
    if isinstance(exc, ValidationError):
        details = [
            {"field": field, "message": str(messages[0])}
            for field, messages in getattr(exc, "message_dict", {"": exc.messages}).items()
        ]
        return errors.invalid_fields(details)
    if isinstance(exc, PermissionDenied):
        return ApiError(403, "forbidden", str(exc))
    return ApiError(409, "conflict", str(exc))  # pragma: no cover


def _boxes(request: HttpRequest) -> list[Mailbox]:
    return services.mailboxes_for(_user(request))


def _box(request: HttpRequest, wanted: int | None) -> tuple[Mailbox, list[Mailbox]]:
    boxes = _boxes(request)
    if wanted is None:
        return boxes[0], boxes
    box = next((b for b in boxes if b.pk == wanted), None)
    if box is None:
        raise ApiError(404, "not_found", "No such mailbox.")
    return box, boxes


def _found(request: HttpRequest, message_id: int) -> Message:
    message = queries.message_in(_boxes(request), message_id)
    if message is None:
        raise ApiError(404, "not_found", "No such message.")
    return message


# --- routes ---------------------------------------------------------------------------------


@router.get("/messages", response=list[MessageOut], summary="My mailbox, newest first")
def list_messages(
    request: HttpRequest, response: HttpResponse, params: Query[ListParams]
) -> list[dict[str, Any]]:
    """Received and sent messages of the caller's own mailbox (or ``mailbox``, a business's
    mailbox they hold a mandate for), newest first. When more follow, the answer carries a
    `Link: <…?before=<cursor>>; rel="next"` header. Every page costs the same. The header
    `X-Unread-Count` is the number of unread messages in the mailbox."""
    auth.require_scope(request, "read")
    box, _boxes_read = _box(request, params.mailbox)
    before = cursor(request.GET, "before", queries.decode_cursor)
    found = queries.page(box, before, params.limit)
    if found.next_cursor:
        following = request.GET.copy()
        following["before"] = found.next_cursor
        response["Link"] = f'<{request.path}?{following.urlencode()}>; rel="next"'
    response["X-Unread-Count"] = str(queries.unread_count(box))
    return [_message(m) for m in found.rows]


@router.get("/messages/{message_id}", response=MessageDetailOut, summary="A message (opens it)")
def get_message(request: HttpRequest, message_id: Id) -> dict[str, Any]:
    """Reading a message opens it, as the mailbox page does: it is marked read and, for a
    delivery, the `opened` step is recorded — the delivery takes legal effect now. The answer
    carries the delivery's steps, each with its sealed record and the check of its seal."""
    auth.require_scope(request, "read")
    message = _found(request, message_id)
    delivery = _delivery_of(message)
    unopened = (
        delivery is not None
        and delivery.opened_at is None
        and delivery.channel == Delivery.Channel.ELECTRONIC
    )
    if message.read_at is None or unopened:
        deliveries.opened(Actor.from_request(request, via="api"), message)
        message = _found(request, message_id)
    return _detail(message)


@router.get(
    "/messages/{message_id}/files/{number}",
    response={200: None},
    summary="Download a message's file",
)
def get_file(request: HttpRequest, message_id: Id, number: Id) -> HttpResponseBase:
    """The delivered act (its issued PDF) or a file attached to a sent letter. Audited."""
    auth.require_scope(request, "read")
    message = _found(request, message_id)
    if message.document is None or not any(
        f.number == number for f in queries.attachments(message)
    ):
        raise ApiError(404, "not_found", "No such file.")
    response = read_version(
        Actor.from_request(request, via="api"), message.document, number, message=message.pk
    )
    if response is None:  # pragma: no cover
        raise ApiError(404, "not_found", "No such file.")
    return response


def _json_schema(model: type[Schema]) -> dict[str, Any]:
    """The model's JSON Schema with its ``$defs`` written in place: a request body described
    in ``openapi_extra`` has no components of its own to point at."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return inline(defs[ref.removeprefix("#/$defs/")])
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    result: dict[str, Any] = inline(schema)
    return result


LETTER_FIELDS = ("authority", "subject", "body", "case_id", "mailbox", "idempotency_key")
MULTIPART = "multipart/form-data"


def _letter_multipart_schema() -> dict[str, Any]:
    json_form = _json_schema(LetterIn)["properties"]
    fields = {name: json_form[name] for name in LETTER_FIELDS}
    fields["files"] = {
        "type": "array",
        "items": {"type": "string", "format": "binary"},
        "maxItems": services.MAX_FILES,
        "description": "The files (PDF, PNG or JPEG), one part each, all named `files`.",
    }
    return {"type": "object", "properties": fields, "required": ["authority", "subject"]}


LETTER_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": _json_schema(LetterIn)},
            MULTIPART: {"schema": _letter_multipart_schema()},
        },
    }
}

# The JSON form of a letter is read under a limit of its own (docs/mailbox.md).
body_limits.declare("POST", "/api/v1/mailbox/messages", upload_limits.json_max_bytes)


def _schema_errors(exc: pydantic.ValidationError) -> ApiError:
    if any(error["type"] == "json_invalid" for error in exc.errors()):
        return ApiError(400, "invalid_json", _("The request body is not valid JSON."))
    return errors.invalid_fields(errors.schema_details(list(exc.errors(include_url=False))))


def _file_refused(field: str, exc: ValidationError, size: int) -> ApiError:
    """413 ``file_too_large`` for a file over the limit, else 422 ``validation_error``; the
    message says why (and the limit, in MB)."""
    message = str(exc.messages[0])
    if size > uploads.max_bytes():
        return ApiError(
            413,
            "file_too_large",
            message,
            [{"field": field, "message": message}],
        )
    return _invalid(field, message)


def _too_many_files() -> ApiError:
    return _invalid("files", _("Attach at most %(n)s files.") % {"n": services.MAX_FILES})


def _letter_from_json(request: HttpRequest) -> tuple[LetterIn, list[uploads.CheckedFile]]:
    raw = upload_limits.read_body(
        request,
        upload_limits.json_max_bytes(),
        _("Send larger files as multipart/form-data."),
    )
    try:
        letter = LetterIn.model_validate_json(raw)
    except pydantic.ValidationError as exc:
        raise _schema_errors(exc) from None
    checked = []
    for index, given in enumerate(letter.files):
        field = f"files.{index}"
        encoded = given.content_base64
        size = len(encoded) * 3 // 4 - encoded[-2:].count("=")  # before decoding it
        try:
            uploads.check_size(size)
            try:
                data = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                raise _invalid(field, "Not valid base64.") from None
            checked.append(uploads.check(given.name, data))
        except ValidationError as exc:
            raise _file_refused(field, exc, size) from None
    return letter, checked


def _letter_from_form(request: HttpRequest) -> tuple[LetterIn, list[uploads.CheckedFile]]:
    """The fields of ``LetterIn`` as form fields; the files in parts named ``files``, each
    streamed to a temporary file (over the limit: counted, not kept) and checked where it
    lies."""
    try:
        form, files = request.POST, request.FILES
    except RequestDataTooBig:  # the form's fields alone, past DATA_UPLOAD_MAX_MEMORY_SIZE
        raise upload_limits.too_large(
            upload_limits.content_length(request), upload_limits.form_fields_bytes()
        ) from None
    except TooManyFilesSent:  # past DATA_UPLOAD_MAX_NUMBER_FILES, long past MAX_FILES
        raise _too_many_files() from None
    stray = next((name for name in files if name != "files"), None)
    if stray is not None:
        raise _invalid(stray, "Send the files in parts named `files`.")
    given = {name: form[name] for name in LETTER_FIELDS if form.get(name, "") != ""}
    try:
        letter = LetterIn.model_validate(given)
    except pydantic.ValidationError as exc:
        raise _schema_errors(exc) from None
    parts = files.getlist("files")
    if len(parts) > services.MAX_FILES:
        raise _too_many_files()
    checked = []
    for index, part in enumerate(parts):
        try:
            checked.append(uploads.read(part))
        except ValidationError as exc:
            raise _file_refused(f"files.{index}", exc, int(part.size or 0)) from None
    return letter, checked


@router.post(
    "/messages",
    response={200: MessageDetailOut, 201: MessageDetailOut},
    summary="Send a letter to an authority (idempotent)",
    openapi_extra=LETTER_BODY,
)
@decorate_view(upload_limits.limit_uploads(services.MAX_FILES, uploads.max_bytes))
def send_letter(
    request: HttpRequest,
    idempotency_key: str | None = Header(
        default=None,
        alias="Idempotency-Key",
        description="A key chosen by the client (or the body's `idempotency_key`).",
    ),
) -> Status[dict[str, Any]]:
    """JSON with the files in base64, or multipart/form-data with the files as parts named
    `files` (streamed, no base64) — at most 5 files (PDF, PNG, JPEG), each at most
    `SALTER_UPLOAD_MAX_BYTES` (20 MB; over it: 413 `file_too_large`). A JSON body may be at
    most `SALTER_API_JSON_MAX_BYTES` (28 MB: one file at the limit in base64), a multipart
    body 5 files and 2.5 MB more (over either: 413 `request_too_large`). The letter is
    registered in the authority's registry book at once — under the case's number when
    `case_id` is given — and the answer is the receipt: `registry_number` and
    `registered_at`. 201 for a new letter; 200 with the same letter for a retry with the
    same idempotency key."""
    auth.require_scope(request, "write")
    if request.content_type == MULTIPART:
        body, files = _letter_from_form(request)
    else:
        body, files = _letter_from_json(request)
    key = idempotency_key or body.idempotency_key
    if idempotency_key and body.idempotency_key and idempotency_key != body.idempotency_key:
        raise _invalid("idempotency_key", "The header and the body name different keys.")
    box, _boxes_read = _box(request, body.mailbox)
    authority = Authority.objects.filter(code=body.authority).first()
    if authority is None:
        raise _invalid("authority", "No such authority.")
    case = None
    if body.case_id is not None:
        case = Case.objects.filter(pk=body.case_id, applicant=_user(request)).first()
        if case is None:
            raise _invalid("case_id", "Choose one of your cases at this authority.")
    try:
        message, created = services.send_letter(
            Actor.from_request(request, via="api"),
            box,
            authority,
            subject=body.subject,
            body=body.body,
            files=files,
            case=case,
            idempotency_key=key,
        )
    except (ValidationError, PermissionDenied) as exc:
        raise _refusal(exc) from None
    found = queries.message_in([box], message.pk)
    assert found is not None
    return Status(201 if created else 200, _detail(found))


def _answer(request: HttpRequest, delivery_id: int, accept: bool, reason: str) -> dict[str, Any]:
    auth.require_scope(request, "write")
    boxes = [b.pk for b in _boxes(request)]
    found = Delivery.objects.filter(pk=delivery_id, message__mailbox__in=boxes).first()
    if found is None:
        raise ApiError(404, "not_found", "No such delivery.")
    try:
        done = deliveries.answer(
            Actor.from_request(request, via="api"), found, accept=accept, reason=reason
        )
    except ValidationError as exc:
        if "reason" in getattr(exc, "message_dict", {}):
            raise _refusal(exc) from None
        raise ApiError(409, "conflict", " ".join(exc.messages)) from None
    except PermissionDenied as exc:
        raise _refusal(exc) from None
    return _delivery(done)


@router.post("/deliveries/{delivery_id}/accept", response=DeliveryOut, summary="Accept a delivery")
def accept_delivery(request: HttpRequest, delivery_id: Id) -> dict[str, Any]:
    """Once; 409 `conflict` if already answered or delivered by post."""
    return _answer(request, delivery_id, True, "")


@router.post("/deliveries/{delivery_id}/refuse", response=DeliveryOut, summary="Refuse a delivery")
def refuse_delivery(request: HttpRequest, delivery_id: Id, body: RefuseIn) -> dict[str, Any]:
    """With a reason, once. The refusal is recorded; by law the document still counts as
    delivered."""
    return _answer(request, delivery_id, False, body.reason)


@router.get("/consents", response=list[ConsentOut], summary="Consents in force")
def list_consents(request: HttpRequest, mailbox: Id | None = None) -> list[dict[str, Any]]:
    """Consents to electronic delivery (ZUP art. 57) in force for the mailbox, the general
    one first."""
    auth.require_scope(request, "read")
    box, _boxes_read = _box(request, mailbox)
    return [_consent(c) for c in queries.consents(box)]


@router.post(
    "/consents",
    response={200: ConsentOut, 201: ConsentOut},
    summary="Consent to electronic delivery",
)
def give_consent(request: HttpRequest, body: ConsentIn) -> Status[dict[str, Any]]:
    """From one authority (`authority`) or every authority (null). 201 when given now; 200 with
    the consent already in force."""
    auth.require_scope(request, "write")
    box, _boxes_read = _box(request, body.mailbox)
    authority = None
    if body.authority is not None:
        authority = Authority.objects.filter(code=body.authority, is_active=True).first()
        if authority is None:
            raise _invalid("authority", "No such authority.")
    before = set(
        Consent.objects.filter(mailbox=box, revoked_at__isnull=True).values_list("pk", flat=True)
    )
    try:
        consent = services.give_consent(Actor.from_request(request, via="api"), box, authority)
    except PermissionDenied as exc:
        raise _refusal(exc) from None
    return Status(200 if consent.pk in before else 201, _consent(consent))


@router.delete("/consents/{consent_id}", response={204: None}, summary="Revoke a consent")
def revoke_consent(request: HttpRequest, consent_id: Id) -> Status[None]:
    """Documents delivered from now on go by post (unless another consent or a law allows
    electronic delivery); deliveries already made stand."""
    auth.require_scope(request, "write")
    boxes = [b.pk for b in _boxes(request)]
    found = Consent.objects.filter(
        pk=consent_id, mailbox__in=boxes, revoked_at__isnull=True
    ).first()
    if found is None:
        raise ApiError(404, "not_found", "No such consent.")
    try:
        services.revoke_consent(Actor.from_request(request, via="api"), found)
    except PermissionDenied as exc:  # pragma: no cover — the mailbox was just checked
        raise _refusal(exc) from None
    return Status(204, None)
