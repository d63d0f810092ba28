"""Use cases that change authorities, units and registry books."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from salter.audit import services as audit
from salter.authorities.models import (
    Authority,
    Category,
    CategoryList,
    OrgUnit,
    RegistryBook,
    RegistryCounter,
)
from salter.authorities.numbering import (
    Allocation,
    NumberingError,
    YearClosed,
    current_year,
    lock_counter,
    template_fields,
)
from salter.core.accounts import AccountError, is_valid_account, normalise_account
from salter.core.context import Actor
from salter.identity.permissions import require_platform_admin


@transaction.atomic
def create_authority(
    actor: Actor,
    *,
    code: str,
    name: str,
    kind: str,
    name_en: str = "",
    parent: Authority | None = None,
    pib: str = "",
    mb: str = "",
    address: str = "",
) -> Authority:
    require_platform_admin(actor)
    authority = Authority.objects.create(
        code=code,
        name=name,
        name_en=name_en,
        kind=kind,
        parent=parent,
        pib=pib,
        mb=mb,
        address=address,
    )
    RegistryBook.objects.create(
        authority=authority,
        code="01",
        name="Деловодник",
        name_en="Registry book",
        is_default=True,
    )
    audit.record(
        actor,
        "authority.created",
        authority,
        authority_id=authority.pk,
        payload={"code": code, "kind": kind},
    )
    return authority


@transaction.atomic
def create_unit(
    actor: Actor,
    authority: Authority,
    *,
    code: str,
    name: str,
    name_en: str = "",
    parent: OrgUnit | None = None,
) -> OrgUnit:
    require_platform_admin(actor, or_authority_admin_of=authority)
    unit = OrgUnit.objects.create(
        authority=authority, code=code, name=name, name_en=name_en, parent=parent
    )
    audit.record(actor, "unit.created", unit, authority_id=authority.pk, payload={"code": code})
    return unit


# --- Registry numbers (delovodni broj) -----------------------------------------------------


def allocate_number(
    actor: Actor, book: RegistryBook, *, year: int | None = None, unit_code: str = ""
) -> Allocation:
    """Give out the next registry number of ``book`` in ``year`` (by default the current year
    in Belgrade), e.g. ``01-7/2026``.

    Must run inside the caller's transaction — the one that registers the case or document —
    and joins it instead of opening its own: if that transaction fails, the number is rolled
    back with it and given to the next submission, so the book has no gaps. The counter row
    stays locked until the caller commits, so keep what follows the allocation short.

    No permission check here: the use case that registers the entry (a citizen's submission,
    an official's incoming mail) has checked it already.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(
            "allocate_number() must run inside the transaction that registers the entry"
        )
    if "unit" in template_fields(book.number_template) and not unit_code:
        raise ValueError(f"the number template of book {book.code} needs a unit code")
    if year is None:
        year = current_year()
    counter = lock_counter(book, year)
    if counter.closed_at is not None:
        raise YearClosed(book, year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    formatted = book.format_number(counter.last_number, year, unit=unit_code)
    audit.record(
        actor,
        "registry.number_allocated",
        book,
        authority_id=book.authority_id,
        payload={
            "book": book.code,
            "year": year,
            "number": counter.last_number,
            "formatted": formatted,
        },
    )
    return Allocation(book=book, year=year, number=counter.last_number, formatted=formatted)


@transaction.atomic
def close_year(actor: Actor, book: RegistryBook, year: int) -> RegistryCounter:
    """Close ``book`` for ``year``: no more numbers are allocated in it. Books close on
    31 December, so a year cannot be closed before that day (Belgrade time). Idempotent:
    closing a closed year changes nothing and records nothing.

    A year nobody allocated in is closed as well, so that it cannot be opened later by mistake.
    Carrying the year's open cases over to the new year, each with a link to its old number,
    belongs to the cases app and is not done here.
    """
    require_platform_admin(actor, or_authority_admin_of=book.authority)
    if timezone.localdate(timezone=timezone.get_default_timezone()) < dt.date(year, 12, 31):
        raise NumberingError(
            _("Registry book %(book)s cannot be closed for %(year)s before 31 December.")
            % {"book": book.code, "year": year}
        )
    counter = lock_counter(book, year)
    if counter.closed_at is not None:
        return counter
    counter.closed_at = timezone.now()
    counter.save(update_fields=["closed_at"])
    audit.record(
        actor,
        "registry.year_closed",
        book,
        authority_id=book.authority_id,
        payload={"book": book.code, "year": year, "last_number": counter.last_number},
    )
    return counter


# --- Category list (lista kategorija) ------------------------------------------------------


@transaction.atomic
def create_category_list(
    actor: Actor,
    authority: Authority,
    *,
    valid_from: dt.date,
    approval_number: str = "",
    categories: list[tuple[str, str, int | None]],
) -> CategoryList:
    """A new version of the authority's category list: ``(code, title, years)`` per category,
    ``years`` ``None`` for material kept permanently. Older versions stay for the records
    classified under them."""
    require_platform_admin(actor, or_authority_admin_of=authority)
    errors: dict[str, str] = {}
    codes = [code.strip() for code, _title, _years in categories]
    if not categories:
        errors["categories"] = _("A category list needs at least one category.")
    elif len(set(codes)) != len(codes) or not all(codes):
        errors["categories"] = _("Every category needs its own code.")
    if any(years is not None and not 0 < years <= 500 for _c, _t, years in categories):
        errors["categories"] = _("A retention period is between 1 and 500 years.")
    if errors:
        raise ValidationError({k: [v] for k, v in errors.items()})
    last = (
        CategoryList.objects.select_for_update()
        .filter(authority=authority)
        .order_by("-version")
        .first()
    )
    category_list = CategoryList.objects.create(
        authority=authority,
        version=(last.version + 1) if last is not None else 1,
        approval_number=approval_number.strip(),
        valid_from=valid_from,
    )
    Category.objects.bulk_create(
        Category(
            category_list=category_list,
            code=code.strip(),
            title=title.strip(),
            retention_years=years,
            permanent=years is None,
        )
        for code, title, years in categories
    )
    audit.record(
        actor,
        "category_list.created",
        category_list,
        authority_id=authority.pk,
        payload={"version": category_list.version, "categories": len(categories)},
    )
    return category_list


def current_categories(authority: Authority, on: dt.date | None = None) -> list[Category]:
    """The categories of the authority's list in force on a day (today by default)."""
    day = on or timezone.localdate()
    category_list = (
        CategoryList.objects.filter(authority=authority, valid_from__lte=day)
        .order_by("-valid_from", "-version")
        .first()
    )
    if category_list is None:
        return []
    return list(category_list.categories.order_by("code"))


# --- Fees: where they are paid ---------------------------------------------------------------

MAX_PAYMENT_CODE = 99_999_999  # 8 digits: the longest authority part of a case reference


@transaction.atomic
def set_fee_account(
    actor: Actor, authority: Authority, *, account: str, payment_code: int | None
) -> Authority:
    """The account the authority's fees are paid to (18 digits, control digits checked; any
    accepted writing, stored as digits) and its numeric code in the model-97 references of
    its cases (:func:`salter.payments.references.case_reference`): unique on the platform,
    1 to 8 digits. Orders already opened keep the account and reference they were given."""
    require_platform_admin(actor, or_authority_admin_of=authority)
    errors: dict[str, str] = {}
    digits = ""
    if account.strip():
        try:
            digits = normalise_account(account)
        except AccountError as exc:
            errors["account"] = str(exc.message)
        else:
            if not is_valid_account(digits):
                errors["account"] = _(
                    "This account number's control number is wrong: please check each digit."
                )
    if payment_code is not None:
        if not 0 < payment_code <= MAX_PAYMENT_CODE:
            errors["payment_code"] = _("The numeric code has 1 to 8 digits and is not zero.")
        elif Authority.objects.filter(payment_code=payment_code).exclude(pk=authority.pk).exists():
            errors["payment_code"] = _("Another authority already uses this numeric code.")
    if errors:
        raise ValidationError({k: [v] for k, v in errors.items()})
    authority = Authority.objects.select_for_update().get(pk=authority.pk)
    before = {"account": authority.account, "payment_code": authority.payment_code}
    authority.account = digits
    authority.payment_code = payment_code
    authority.save(update_fields=["account", "payment_code"])
    audit.record(
        actor,
        "authority.fee_account_set",
        authority,
        authority_id=authority.pk,
        payload={"account": digits, "payment_code": payment_code, "before": before},
    )
    return authority
