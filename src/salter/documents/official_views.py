"""The registry clerk's pages (under /official/registry/, behind the second-factor gate): the
book of a year with search and filters, registering a document with its file, one entry with
its versions, voiding, and the exports of the registry book and the archival book as CSV and
PDF. Only those who keep the book (registry clerk, head of unit, archivist, administrator) of
the authority see it; anyone else gets 404."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from salter.authorities.models import Authority, Category, RegistryBook
from salter.authorities.services import current_categories
from salter.cases.access import visible_case  # the case's own rule, grants included
from salter.core import params
from salter.core.context import Actor
from salter.documents import queries, services, uploads
from salter.documents.models import Document
from salter.exchange import reads
from salter.identity import loa
from salter.identity.models import User

PAGE = 50
LOCATION = "Šalter"


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _authority(request: HttpRequest) -> tuple[Authority, list[Authority]]:
    mine = queries.keeper_authorities(_user(request))
    if not mine:
        raise Http404
    wanted = params.optional_id(request.GET, "authority") or params.optional_id(
        request.POST, "authority"
    )
    chosen = next((a for a in mine if a.pk == wanted), mine[0])
    return chosen, mine


def _book(authority: Authority, wanted: int | None) -> tuple[RegistryBook, list[RegistryBook]]:
    books = list(RegistryBook.objects.filter(authority=authority).order_by("-is_default", "code"))
    if not books:
        raise Http404
    return next((b for b in books if b.pk == wanted), books[0]), books


def _entry(request: HttpRequest, document_id: int) -> Document:
    """The entry, if the caller keeps its authority's book and reads it: within what their
    keeping role reads (:func:`queries.readable`), or a document of a case they may read
    otherwise (their own role in its unit, a grant). Anything else is 404."""
    user = _user(request)
    allowed = {a.pk for a in queries.keeper_authorities(user)}
    document = (
        Document.objects.select_related("authority", "book", "category", "case")
        .filter(pk=document_id, authority_id__in=allowed)
        .first()
    )
    if document is None:
        raise Http404
    within = queries.readable(user, document.authority_id)
    if not Document.objects.filter(within, pk=document.pk).exists():
        found = visible_case(document.case_id, user) if document.case_id else None
        if found is None or not found[1]:
            raise Http404
        document.case = found[0]  # the case in hand, with the grant it was seen under
    return document


def _position(cursor: str) -> tuple[int, int] | None:
    """(number, sub-number) from ``?before=<number>.<sub>``, the book's keyset; ``None`` if it
    is not one."""
    found = re.fullmatch(r"([0-9]{1,18})\.([0-9]{1,18})", cursor)
    return (int(found[1]), int(found[2])) if found else None


def _selection(request: HttpRequest) -> dict[str, Any]:
    authority, authorities = _authority(request)
    book, books = _book(authority, params.optional_id(request.GET, "book"))
    year = params.number(
        request.GET, "year", default=timezone.localdate().year, minimum=1, maximum=9999
    )
    return {
        "authority": authority,
        "authorities": authorities,
        "book": book,
        "books": books,
        "year": year,
    }


@loa.require_level(loa.TWO_FACTOR)
@require_GET
def book(request: HttpRequest) -> HttpResponse:
    chosen = _selection(request)
    filters = queries.Filters(
        q=params.text(request.GET, "q", max_length=100),
        direction=params.choice(request.GET, "direction", Document.Direction.values),
        category=params.optional_id(request.GET, "category"),
        voided=params.choice(request.GET, "voided", ("only", "hide")),
    )
    before = params.cursor(request.GET, "before", _position)
    within = queries.readable(_user(request), chosen["authority"].pk)
    rows = queries.entries(
        chosen["book"], chosen["year"], filters, before=before, limit=PAGE + 1, within=within
    )
    shown = rows[:PAGE]
    query = {
        key: value
        for key, value in request.GET.items()
        if key in {"authority", "book", "year", "q", "direction", "category", "voided"} and value
    }
    next_url = ""
    if len(rows) > PAGE:
        last = shown[-1]
        next_url = "?" + urlencode({**query, "before": f"{last.number}.{last.sub_number}"})
    return render(
        request,
        "documents/official/book.html",
        {
            **chosen,
            "rows": shown,
            "filters": filters,
            "categories": current_categories(chosen["authority"]),
            "directions": Document.Direction.choices,
            "next_url": next_url,
            "first_url": ("?" + urlencode(query)) if before is not None else "",
            "export_query": urlencode(
                {k: v for k, v in query.items() if k in {"authority", "book", "year"}}
            ),
        },
    )


FIELDS = ("direction", "subject", "sender", "recipient", "category")
FIELD_MAX = 10_000  # longer than any of them may be: the service says what is too long


@loa.require_level(loa.TWO_FACTOR)
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    authority, authorities = _authority(request)
    categories = current_categories(authority)
    values = {k: params.text(request.POST, k, max_length=FIELD_MAX).strip() for k in FIELDS}
    errors: dict[str, str] = {}
    if request.method == "POST":
        category: Category | None = None
        if values["category"]:
            category = next((c for c in categories if str(c.pk) == values["category"]), None)
            if category is None:
                errors["category"] = _("Choose a classification code from the list.")
        upload = request.FILES.get("file")
        checked = None
        if upload is not None:
            try:
                checked = uploads.read(upload)
            except ValidationError as exc:
                errors["file"] = exc.message_dict["file"][0]
        if not errors:
            try:
                document = services.register(
                    Actor.from_request(request),
                    authority=authority,
                    direction=values["direction"],
                    subject=values["subject"],
                    sender=values["sender"],
                    recipient=values["recipient"],
                    category=category,
                    upload=checked,
                )
            except ValidationError as exc:
                errors = {k: v[0] for k, v in exc.message_dict.items()}
            except PermissionDenied:
                raise Http404 from None
            else:
                messages.success(
                    request,
                    _("Registered under number %(number)s.") % {"number": document.registry_number},
                )
                return redirect("official:registry_entry", document_id=document.pk)
    return render(
        request,
        "documents/official/register.html",
        {
            "authority": authority,
            "authorities": authorities,
            "categories": categories,
            "directions": Document.Direction.choices,
            "values": values,
            "errors": errors,
            "max_mb": uploads.max_bytes() // (1024 * 1024),
        },
        status=400 if errors else 200,
    )


@loa.require_level(loa.TWO_FACTOR)
@require_GET
def entry(request: HttpRequest, document_id: int) -> HttpResponse:
    document = _entry(request, document_id)
    return _show_entry(request, document)


def _show_entry(
    request: HttpRequest,
    document: Document,
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    versions = list(document.versions.select_related("created_by").order_by("number"))
    # The entry names its sender and subject: a read of the data of whom it concerns.
    reads.document_read(request, document)
    return render(
        request,
        "documents/official/entry.html",
        {
            "document": document,
            "versions": versions,
            "errors": errors or {},
            "max_mb": uploads.max_bytes() // (1024 * 1024),
        },
        status=status,
    )


@loa.require_level(loa.TWO_FACTOR)
@require_POST
def add_version(request: HttpRequest, document_id: int) -> HttpResponse:
    document = _entry(request, document_id)
    upload = request.FILES.get("file")
    if upload is None:
        return _show_entry(
            request, document, errors={"file": _("Choose a file to upload.")}, status=400
        )
    try:
        checked = uploads.read(upload)
        services.add_version(
            Actor.from_request(request),
            document,
            checked,
            note=params.text(request.POST, "note", max_length=FIELD_MAX),
        )
    except ValidationError as exc:
        message = next(iter(exc.message_dict.values()))[0]
        return _show_entry(request, document, errors={"file": message}, status=400)
    messages.success(request, _("The new version is stored."))
    return redirect("official:registry_entry", document_id=document.pk)


@loa.require_level(loa.TWO_FACTOR)
@require_POST
def void(request: HttpRequest, document_id: int) -> HttpResponse:
    document = _entry(request, document_id)
    try:
        reason = params.text(request.POST, "reason", max_length=FIELD_MAX)
        services.void(Actor.from_request(request), document, reason)
    except ValidationError as exc:
        message = next(iter(exc.message_dict.values()))[0]
        return _show_entry(request, document, errors={"reason": message}, status=400)
    messages.success(request, _("The entry is voided; it stays in the book."))
    return redirect("official:registry_entry", document_id=document.pk)


@loa.require_level(loa.TWO_FACTOR)
@require_GET
def download(request: HttpRequest, document_id: int, number: int) -> HttpResponseBase:
    document = _entry(request, document_id)
    response = services.read_version(Actor.from_request(request), document, number)
    if response is None:
        raise Http404
    reads.document_read(request, document)
    return response


# --- exports -------------------------------------------------------------------------------


def _book_columns() -> list[str]:
    return [
        _("Registry number"),
        _("Date"),
        _("Direction"),
        _("Sender"),
        _("Recipient"),
        _("Subject"),
        _("Classification code"),
        _("Retention"),
        _("Case"),
        _("Voided"),
    ]


def _book_rows(documents: Iterable[Document]) -> list[list[str]]:
    rows = []
    for d in documents:
        row = [
            d.registry_number,
            timezone.localtime(d.registered_at).strftime("%d.%m.%Y."),
            d.get_direction_display(),
            d.sender,
            d.recipient,
            d.subject,
            d.category.code if d.category else "",
            d.category.retention_text if d.category else "",
            d.case.registry_number if d.case else "",
            (f"{timezone.localtime(d.voided_at):%d.%m.%Y.} — {d.void_reason}")
            if d.voided_at
            else "",
        ]
        if getattr(d, "withheld", False):  # above the reader's clearance: number and date only
            row[3:9] = ["", "", _("(withheld)"), "", "", ""]
        rows.append(row)
    return rows


def _archival_columns() -> list[str]:
    return [
        _("Serial number"),
        _("Date of entry"),
        _("Years covered"),
        _("Content"),
        _("Classification code"),
        _("Retention period"),
        _("Approval number of the category list"),
        _("Quantity"),
        _("Location"),
        _("Destruction or handover"),
        _("Remarks"),
    ]


def _archival(book_: RegistryBook, year: int) -> list[list[str]]:
    return [
        [
            str(r.serial),
            r.entered.strftime("%d.%m.%Y."),
            r.years,
            r.content,
            r.code,
            r.retention,
            r.approval_number,
            r.quantity,
            r.location,
            r.disposal,
            r.remarks,
        ]
        for r in queries.archival_rows(book_, year, location=LOCATION)
    ]


def _csv(filename: str, header: Sequence[str], rows: list[list[str]]) -> HttpResponse:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        # A cell that a spreadsheet would run as a formula is written as text.
        writer.writerow([("'" + c) if c[:1] in ("=", "+", "-", "@") else c for c in row])
    response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _pdf(filename: str, title: str, header: Sequence[str], rows: list[list[str]]) -> HttpResponse:
    from weasyprint import HTML

    html = render_to_string(
        "documents/official/export.html", {"title": title, "header": header, "rows": rows}
    )
    response = HttpResponse(HTML(string=html).write_pdf(), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@loa.require_level(loa.TWO_FACTOR)
@require_GET
def export(request: HttpRequest, which: str, fmt: str) -> HttpResponse:
    chosen = _selection(request)
    book_, year = chosen["book"], chosen["year"]
    stem = f"{chosen['authority'].code}-{book_.code}-{year}"
    if which == "book":
        header = _book_columns()
        within = queries.readable(_user(request), chosen["authority"].pk)
        rows = _book_rows(queries.whole_year(book_, year, within=within))
        title = _("Registry book %(book)s, %(year)s — %(authority)s") % {
            "book": book_.code,
            "year": year,
            "authority": chosen["authority"].display_name,
        }
        stem = f"delovodnik-{stem}"
    elif which == "archival":
        header = _archival_columns()
        rows = _archival(book_, year)
        title = _("Archival book %(year)s — %(authority)s") % {
            "year": year,
            "authority": chosen["authority"].display_name,
        }
        stem = f"arhivska-knjiga-{stem}"
    else:
        raise Http404
    if fmt == "csv":
        return _csv(f"{stem}.csv", header, rows)
    if fmt == "pdf":
        return _pdf(f"{stem}.pdf", title, header, rows)
    raise Http404
