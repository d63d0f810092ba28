"""Reads of the registry of documents: who may see a book, one year's entries with search and
filters, the rows of the registry-book and archival-book exports.

Those who keep the book read every entry's number, date and direction; its subject, sender,
recipient, classification and case only if the entry is within what they read (see
:func:`readable`): its confidentiality within the clearance of their keeping role, and — for
a head of unit, who keeps the book for their unit — a case's document only of a case of their
unit or a unit below it. Searching by words or by classification code finds only entries they
read, so a search cannot tell what a withheld entry is about."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from django.db.models import BooleanField, Prefetch, Q, QuerySet, Value, When
from django.db.models import Case as Choose
from django.utils import timezone
from django.utils.translation import gettext as _

from salter.authorities.models import Authority, OrgUnit, RegistryBook
from salter.cases.access import AUTHORITY_WIDE
from salter.cases.models import Case
from salter.core.confidentiality import clearance_rank, levels_up_to
from salter.documents.models import Document, DocumentVersion
from salter.identity.models import Membership, Role, User

# Who keeps the book: reads all of it, registers and voids entries, exports it.
KEEPERS = (Role.REGISTRY_CLERK, Role.HEAD_OF_UNIT, Role.ARCHIVIST, Role.AUTHORITY_ADMIN)


def keeper_authorities(user: User) -> list[Authority]:
    """The authorities whose registry books ``user`` keeps."""
    ids = (
        Membership.objects.in_force()
        .filter(user=user, role__in=KEEPERS)
        .values("unit__authority_id")
    )
    return list(Authority.objects.filter(pk__in=ids).order_by("name"))


def readable(user: User, authority_id: int) -> Q:
    """The entries of the authority's books that ``user`` reads in full, as a condition on
    :class:`Document`: per keeping role, entries within its clearance — any of them for a
    role that serves the whole authority, for a head of unit those not of a case of another
    unit. One query for the roles, one more for the units' tree when a head keeps the book."""
    rows = list(
        Membership.objects.in_force()
        .filter(user=user, role__in=KEEPERS, unit__authority_id=authority_id)
        .values_list("role", "unit_id", "clearance")
    )
    children: dict[int, list[int]] | None = None
    terms = []
    for role, unit_id, clearance in rows:
        levels = levels_up_to(clearance_rank(clearance))
        if not levels:
            continue
        term = Q(confidentiality__in=levels)
        if role not in AUTHORITY_WIDE:
            if children is None:
                children = {}
                pairs = OrgUnit.objects.filter(authority_id=authority_id).values_list(
                    "id", "parent_id"
                )
                for child, parent in pairs:
                    if parent is not None:
                        children.setdefault(parent, []).append(child)
            below, todo = {unit_id}, [unit_id]
            while todo:
                for child in children.get(todo.pop(), ()):
                    if child not in below:
                        below.add(child)
                        todo.append(child)
            term &= Q(case__isnull=True) | Q(case__unit__isnull=True) | Q(case__unit_id__in=below)
        terms.append(term)
    if not terms:
        return Q(pk__in=[])
    found = terms[0]
    for term in terms[1:]:
        found |= term
    return found


def _withheld(rows: QuerySet[Document], where: Q | None) -> QuerySet[Document]:
    """Mark each row ``withheld`` when it is not within ``where`` (None: nothing withheld)."""
    if where is None:
        return rows.annotate(withheld=Value(False, output_field=BooleanField()))
    return rows.annotate(
        withheld=Choose(
            When(where, then=Value(False)), default=Value(True), output_field=BooleanField()
        )
    )


@dataclass(frozen=True)
class Filters:
    q: str = ""
    direction: str = ""
    category: int | None = None
    voided: str = ""  # "" all, "only", "hide"


def entries(
    book: RegistryBook,
    year: int,
    filters: Filters,
    *,
    before: tuple[int, int] | None = None,
    limit: int = 50,
    within: Q | None = None,
) -> list[Document]:
    """One year's entries of a book, newest first, ``limit`` after the keyset ``before``
    (number, sub-number). One query. Each entry is marked ``withheld`` when it is not
    ``within`` what the reader reads (:func:`readable`); a search by words or classification
    code finds only the entries they read."""
    rows: QuerySet[Document] = Document.objects.filter(book=book, year=year).select_related(
        "category", "case"
    )
    rows = _withheld(rows, within)
    if within is not None and (filters.q.strip() or filters.category is not None):
        rows = rows.filter(within)
    if filters.q.strip():
        for word in filters.q.casefold().split()[:5]:
            rows = rows.filter(search_text__contains=word)
    if filters.direction in Document.Direction.values:
        rows = rows.filter(direction=filters.direction)
    if filters.category is not None:
        rows = rows.filter(category_id=filters.category)
    if filters.voided == "only":
        rows = rows.filter(voided_at__isnull=False)
    elif filters.voided == "hide":
        rows = rows.filter(voided_at__isnull=True)
    if before is not None:
        number, sub = before
        rows = rows.filter(Q(number__lt=number) | Q(number=number, sub_number__lt=sub))
    return list(rows.order_by("-number", "-sub_number")[:limit])


def whole_year(book: RegistryBook, year: int, *, within: Q | None = None) -> QuerySet[Document]:
    """Every entry of a year in book order, for the exports, each marked ``withheld`` when it
    is not ``within`` what the reader reads."""
    return _withheld(
        Document.objects.filter(book=book, year=year)
        .select_related("category", "case")
        .order_by("number", "sub_number"),
        within,
    )


@dataclass(frozen=True)
class ArchivalRow:
    """One line of the archival book (arhivska knjiga): a unit of material by category."""

    serial: int
    entered: date
    years: str
    content: str
    code: str
    retention: str
    approval_number: str
    quantity: str
    location: str
    disposal: str
    remarks: str


def archival_rows(book: RegistryBook, year: int, *, location: str) -> list[ArchivalRow]:
    """The year's material grouped by classification code, in code order: the 11 columns of
    the archival book (serial number, date, years covered, content, classification code,
    retention period, approval number of the category list, quantity, location, record of
    destruction or handover, remarks)."""
    documents = list(
        Document.objects.filter(book=book, year=year)
        .select_related("category__category_list")
        .order_by("number", "sub_number")
    )
    groups: dict[str, list[Document]] = {}
    for document in documents:
        key = document.category.code if document.category is not None else ""
        groups.setdefault(key, []).append(document)
    rows = []
    for serial, code in enumerate(sorted(groups), start=1):
        items = groups[code]
        category = items[0].category
        voided = Counter(d.voided_at is not None for d in items)[True]
        last = max(d.registered_at for d in items)
        rows.append(
            ArchivalRow(
                serial=serial,
                entered=timezone.localdate(last),
                years=str(year),
                content=category.title if category is not None else "",
                code=code,
                retention=category.retention_text if category is not None else "",
                approval_number=category.category_list.approval_number if category else "",
                quantity=str(len(items)),
                location=location,
                disposal="",
                remarks=(_("voided entries: %(n)s") % {"n": voided}) if voided else "",
            )
        )
    return rows


@dataclass(frozen=True)
class CaseAct:
    """An act of a case as its pages list it: the registry entry, the versions the reader may
    download, and the issued (signed or sealed) version if there is one."""

    document: Document
    versions: list[DocumentVersion]
    issued: DocumentVersion | None


ISSUED_KINDS = (DocumentVersion.Kind.SIGNED, DocumentVersion.Kind.SEALED)


def case_acts(case: Case, *, official: bool) -> list[CaseAct]:
    """The case's registered documents; for the applicant only the acts issued to them (two
    queries either way)."""
    rows = (
        Document.objects.filter(case=case)
        .select_related("issued_by", "carried_over_from")
        .order_by("year", "number", "sub_number")
    )
    if not official:
        rows = rows.filter(issued_at__isnull=False, voided_at__isnull=True)
    acts = []
    for document in rows.prefetch_related(
        Prefetch("versions", queryset=DocumentVersion.objects.order_by("number"))
    ):
        versions = list(document.versions.all())
        issued = next((v for v in reversed(versions) if v.kind in ISSUED_KINDS), None)
        if not official:
            versions = [issued] if issued is not None else []
        acts.append(CaseAct(document, versions, issued))
    return acts
