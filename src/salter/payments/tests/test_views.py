"""The applicant's payment slip (page, PDF, QR image) read back by real tools — pdftotext,
pdftoppm and the zbar QR reader — and the officials' payment pages, with who may see what."""

from __future__ import annotations

import io
import subprocess
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import add_totp
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from salter.authorities.models import Authority
from salter.cases import services as cases
from salter.cases.models import Case
from salter.catalog.models import ServiceVersion
from salter.core.accounts import format_account
from salter.identity.models import User
from salter.payments import ipsqr, services
from salter.payments.models import Payment, PaymentOrder
from salter.payments.tests.test_ipsqr import read_with_zbar

from .conftest import ACCOUNT, CERTIFICATE_FORM, Entry, act, statement

pytestmark = pytest.mark.django_db
needs_tools = pytest.mark.needs_tools(
    "zbarimg", "pdftoppm", "pdftotext", package="Debian: zbar-tools, poppler-utils"
)


def signed_in(user: User, *, level: int = 2) -> Client:
    client = Client(headers={"accept-language": "en"})
    if level >= 2:
        add_totp(user)
    client.force_login(user)
    session = client.session
    session["salter_loa"] = level
    session.save()
    return client


def submitted(citizen: User, version: ServiceVersion, copies: int = 2) -> tuple[Case, list[Any]]:
    case, _ = cases.submit(act(citizen), version, {**CERTIFICATE_FORM, "copies": copies})
    return case, list(PaymentOrder.objects.filter(case=case).order_by("id"))


def pdf_text(pdf: bytes) -> str:
    done = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True, timeout=60
    )
    return done.stdout.decode()


def pdf_image(pdf: bytes) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "slip.pdf"
        source.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-png", "-r", "200", "-singlefile", str(source), str(Path(folder) / "p")],
            check=True,
            timeout=60,
        )
        return (Path(folder) / "p.png").read_bytes()


# --- the applicant's side --------------------------------------------------------------------


def test_the_case_page_lists_the_fees_with_their_slips(
    certificate: ServiceVersion, citizen: User
) -> None:
    case, (fee, copies) = submitted(citizen, certificate)
    page = signed_in(citizen).get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "Municipal administrative fee for the certificate" in page
    assert reverse("payments:slip", args=[fee.pk]) in page
    assert reverse("payments:slip", args=[copies.pk]) in page
    assert "waiting for payment" in page


def test_the_slip_page_shows_every_field_and_the_code(
    certificate: ServiceVersion, citizen: User
) -> None:
    _case, (fee, _copies) = submitted(citizen, certificate)
    response = signed_in(citizen).get(reverse("payments:slip", args=[fee.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    for shown in (
        "Петар Петровић",  # the payer
        "Општинска адм. такса за уверење",
        "Општина Сурдулица",
        format_account(ACCOUNT),
        "<strong>500.00</strong>",
        "253",
        f"97 {fee.reference}",
    ):
        assert shown in page, shown
    assert '<svg role="img" aria-label="NBS IPS QR code of this payment slip' in page
    assert reverse("payments:slip_pdf", args=[fee.pk]) in page


@needs_tools
def test_the_pdf_and_the_image_carry_the_order(certificate: ServiceVersion, citizen: User) -> None:
    _case, (fee, _copies) = submitted(citizen, certificate)
    client = signed_in(citizen)
    expected = services.slip_payment(fee, "Петар Петровић")

    pdf = client.get(reverse("payments:slip_pdf", args=[fee.pk]))
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"].startswith("attachment")
    text = pdf_text(pdf.content)
    assert f"97 {fee.reference}" in text and format_account(ACCOUNT) in text
    assert ipsqr.parse(read_with_zbar(pdf_image(pdf.content))) == expected

    png = client.get(reverse("payments:qr_png", args=[fee.pk]))
    assert png["Content-Type"] == "image/png"
    read = ipsqr.parse(read_with_zbar(png.content))
    assert read == expected
    assert (read.amount, read.reference) == (fee.amount, fee.reference.replace("-", ""))


@needs_tools
def test_the_pdf_in_latin_script(certificate: ServiceVersion, citizen: User) -> None:
    _case, (fee, _copies) = submitted(citizen, certificate)
    client = signed_in(citizen)
    client.post(reverse("set_language"), {"language": "sr-latn", "next": "/"})
    text = pdf_text(client.get(reverse("payments:slip_pdf", args=[fee.pk])).content)
    assert "Uverenje o imovnom stanju" in text  # the page, transliterated…
    assert "Општина Сурдулица" in text  # …but the slip's values as the QR code carries them
    assert f"97 {fee.reference}" in text


def test_only_the_applicant_sees_the_slip(
    certificate: ServiceVersion, citizen: User, accountant: User, stranger: User
) -> None:
    _case, (fee, _copies) = submitted(citizen, certificate)
    other = User.objects.create_user("drugi@example.rs", "x" * 12, full_name="Други")
    for name in ("payments:slip", "payments:slip_pdf", "payments:qr_png"):
        url = reverse(name, args=[fee.pk])
        anonymous = Client().get(url)
        assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
        assert signed_in(other, level=1).get(url).status_code == 404
        assert signed_in(accountant).get(url).status_code == 404  # officials use their pages
        assert signed_in(stranger).get(url).status_code == 404
        assert signed_in(citizen, level=1).get(url).status_code == 200
    missing = reverse("payments:slip", args=[fee.pk + 1000])
    assert signed_in(citizen, level=1).get(missing).status_code == 404


def test_a_paid_fee_shows_no_code(
    certificate: ServiceVersion, citizen: User, accountant: User
) -> None:
    _case, (fee, _copies) = submitted(citizen, certificate)
    services.confirm_manually(act(accountant), fee, "500", timezone.localdate(), "признаница")
    page = signed_in(citizen).get(reverse("payments:slip", args=[fee.pk])).content.decode()
    assert "This fee was paid on" in page and "<svg" not in page


# --- the officials' side ---------------------------------------------------------------------

OFFICIAL_PAGES = ("official:payments", "official:payments_unmatched", "official:payments_import")


def test_who_sees_the_payment_pages(
    certificate: ServiceVersion,
    citizen: User,
    clerk: User,
    stranger: User,
    accountant: User,
) -> None:
    _case, (fee, _copies) = submitted(citizen, certificate)
    urls = [reverse(n) for n in OFFICIAL_PAGES] + [
        reverse("official:payments_order", args=[fee.pk])
    ]
    for url in urls:
        for method in ("get", "post"):
            anonymous = getattr(Client(), method)(url)
            assert anonymous.status_code == 302 and "/login/" in anonymous["Location"], url
        assert signed_in(citizen).get(url).status_code in (302, 403, 404), url
        assert signed_in(clerk).get(url).status_code == 404, url  # a clerk handles no money
        assert signed_in(accountant).get(url).status_code == 200, url
    # Another authority's accountant sees their own (empty) lists, never this order.
    theirs = signed_in(stranger)
    assert fee.reference not in theirs.get(reverse("official:payments")).content.decode()
    order_url = reverse("official:payments_order", args=[fee.pk])
    assert theirs.get(order_url).status_code == 404
    assert theirs.post(order_url, {"amount": "500"}).status_code == 404
    assert not Payment.objects.exists()


def test_the_due_list_finds_a_reference_from_a_receipt(
    certificate: ServiceVersion, citizen: User, accountant: User
) -> None:
    _case, (fee, copies) = submitted(citizen, certificate)
    client = signed_in(accountant)
    page = client.get(reverse("official:payments")).content.decode()
    assert fee.reference in page and copies.reference in page
    found = client.get(reverse("official:payments"), {"reference": "97 " + copies.reference})
    text = found.content.decode()
    assert copies.reference in text and fee.reference not in text


def test_a_manual_confirmation_keeps_what_was_typed(
    certificate: ServiceVersion, citizen: User, accountant: User
) -> None:
    case, (fee, copies) = submitted(citizen, certificate, copies=1)
    client = signed_in(accountant)
    url = reverse("official:payments_order", args=[fee.pk])
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    wrong = client.post(url, {"amount": "500,00", "booked_on": tomorrow, "note": "уплатница 77"})
    page = wrong.content.decode()
    assert wrong.status_code == 400
    assert "cannot be in the future" in page
    assert 'value="500,00"' in page and "уплатница 77" in page
    done = client.post(
        url, {"amount": "500,00", "booked_on": timezone.localdate().isoformat(), "note": "ок"}
    )
    assert done.status_code == 302
    after = client.get(url).content.decode()
    assert "The payment is recorded and the fee is paid." in after
    assert "Confirm a payment by hand" not in after  # nothing left to confirm
    services.confirm_manually(act(accountant), copies, "150", timezone.localdate(), "ок")
    case.refresh_from_db()
    assert case.state == "submitted"


def upload(data: bytes, name: str = "izvod.xml") -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def test_importing_a_statement_shows_what_it_did(
    certificate: ServiceVersion, citizen: User, accountant: User, paying: Authority
) -> None:
    _case, (fee, copies) = submitted(citizen, certificate)
    client = signed_in(accountant)
    url = reverse("official:payments_import")
    day = statement(
        Entry(fee.reference, "500", ref="1"),
        Entry(copies.reference, "100", ref="2"),
        Entry("12345", "77", ref="3", debtor="Марко Марковић"),
    )
    shown = client.post(url, {"file": upload(day)})
    page = shown.content.decode()
    assert shown.status_code == 200
    for label, value in (
        ("Payments in the statement", 3),
        ("Matched to a fee", 2),
        ("Fees paid by them", 1),
        ("Matched, but less than due", 1),
        ("Matching no fee", 1),
    ):
        assert f"<dt>{label}</dt><dd>{value}" in page, label
    again = client.post(url, {"file": upload(day, "isti.xml")}).content.decode()
    assert "This file was already imported on" in again
    unmatched = client.get(reverse("official:payments_unmatched")).content.decode()
    assert "Марко Марковић" in unmatched and "12345" in unmatched

    broken = client.post(url, {"file": upload(b"<html>not a statement</html>")})
    assert broken.status_code == 400
    assert "cannot be read as a camt.053 bank statement" in broken.content.decode()
    assert client.post(url, {}).status_code == 400
