"""Outgoing documents rendered to PDF: both pilot documents in the three languages, read back
with poppler (pdftotext, pdfinfo, pdftoppm); escaping of what people typed; the URL fetcher that
never reaches the network; the QR code printed on the page compared module by module with the
QR code of the verification URL."""

from __future__ import annotations

import re
import subprocess
import threading
from collections.abc import Iterator
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
import segno
from conftest import PASSWORD
from django.utils import timezone, translation
from PIL import Image

from salter.authorities.models import Authority, OrgUnit
from salter.cases import services
from salter.cases.models import Case
from salter.cases.tests.conftest import NEWBORN_FORM, OVERTIME_FORM, act, confirmed, offer
from salter.catalog import pilots
from salter.core.context import Actor
from salter.documents import rendering
from salter.documents.rendering import (
    DocumentError,
    LocalOnlyFetcher,
    format_money,
    format_number,
    render_document,
    render_html,
    render_pdf,
)
from salter.identity import services as identity
from salter.identity.models import Role, User

pytestmark = pytest.mark.django_db

ISSUED = date(2026, 12, 10)
CODE = "7K3M-Q9TX-2HWP"
CYRILLIC = re.compile(r"[\u0400-\u04FF]")
REASONING = "Подносилац је приложио извод из матичне књиге рођених.\nУслови су испуњени."


# --- helpers ----------------------------------------------------------------------------------


def pdftotext(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "document.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True)
    # pdftotext may break a long line anywhere; the checks read words, not the layout.
    return " ".join(out.stdout.decode("utf-8").split())


def pdfinfo(pdf: bytes, tmp_path: Path) -> dict[str, str]:
    path = tmp_path / "info.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, check=True)
    info = {}
    for line in out.stdout.decode("utf-8").splitlines():
        key, _sep, value = line.partition(":")
        info[key.strip()] = value.strip()
    return info


def official(unit: OrgUnit, system: Actor, email: str, name: str, role: str) -> User:
    membership = identity.add_official(
        system, email=email, full_name=name, unit=unit, role=role, password=PASSWORD
    )
    return membership.user


@pytest.fixture
def letterhead(authority: Authority) -> Authority:
    Authority.objects.filter(pk=authority.pk).update(
        address="Краља Петра I 24, 17530 Сурдулица", pib="100981234", mb="07182589"
    )
    authority.refresh_from_db()
    return authority


@pytest.fixture
def overtime_case(letterhead: Authority, unit: OrgUnit, system: Actor) -> Case:
    employee = official(unit, system, "ana@surdulica.demo", "Ана Анић", Role.CLERK)
    head = official(unit, system, "sef@surdulica.demo", "Бранко Шефовић", Role.HEAD_OF_UNIT)
    accountant = official(unit, system, "racun@surdulica.demo", "Вера Рачуновић", Role.APPROVER)
    version = offer(system, letterhead, pilots.OVERTIME)
    case, _ = services.submit(act(employee), version, OVERTIME_FORM, idempotency_key="o1")
    services.take_transition(act(head), case, "approve", opinion="Одобравам.")
    services.take_transition(
        act(employee),
        case,
        "report",
        inputs={"actual_hours": 3.5, "work_done": "Завршен годишњи извештај."},
    )
    services.take_transition(act(head), case, "confirm")
    return services.take_transition(
        act(accountant),
        case,
        "issue_pay_slip",
        inputs={"hourly_base_pay": 812.40},
        confirmation=confirmed(accountant),
    )


def newborn_case(
    authority: Authority,
    unit: OrgUnit,
    system: Actor,
    citizen: User,
    *,
    outcome: str = "granted",
    reasoning: str = REASONING,
    **data: str,
) -> Case:
    clerk = official(unit, system, "referent@surdulica.demo", "Драган Референтовић", Role.CLERK)
    version = offer(system, authority, pilots.NEWBORN_AID)
    form = {**NEWBORN_FORM, **data}
    case, _ = services.submit(act(citizen), version, form, idempotency_key="n1")
    services.take_transition(act(clerk), case, "start_review")
    return services.take_transition(
        act(clerk),
        case,
        "draft_decision",
        inputs={"decision_outcome": outcome, "decision_reasoning": reasoning},
    )


def document(case: Case, code: str, language: str, **kwargs: Any) -> bytes:
    return render_document(
        case,
        code,
        language=language,
        registry_number=f"{case.registry_number}-1",
        verification_code=CODE,
        issued_at=kwargs.pop("issued_at", ISSUED),
        **kwargs,
    )


def html(case: Case, code: str, language: str = "sr", **kwargs: Any) -> str:
    return render_html(
        case,
        code,
        language=language,
        registry_number=f"{case.registry_number}-1",
        verification_code=CODE,
        issued_at=ISSUED,
        **kwargs,
    )


def assert_one_a4_page(pdf: bytes, tmp_path: Path) -> None:
    info = pdfinfo(pdf, tmp_path)
    assert info["Pages"] == "1"
    assert "(A4)" in info["Page size"], info["Page size"]


# --- money and numbers ------------------------------------------------------------------------


def test_money_is_rounded_half_up_for_display_and_written_per_language() -> None:
    assert format_money("3582.684", "sr") == "3.582,68 RSD"
    assert format_money("3582.684", "en") == "3,582.68 RSD"
    assert format_money("0.005", "sr") == "0,01 RSD"  # half up, not to even
    assert format_money("1234567.125", "sr-latn") == "1.234.567,13 RSD"
    assert format_money(812.4, "sr") == "812,40 RSD"
    assert format_money(20000, "en") == "20,000.00 RSD"
    assert format_money("", "sr") == format_money(None, "sr") == format_money("x", "sr") == ""
    assert format_number(rendering.Decimal("3.5"), "sr") == "3,5"
    assert format_number(rendering.Decimal("3"), "en") == "3"


# --- the overtime pay slip --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "authority_name", "employee", "amount"),
    [
        ("sr", "Општина Сурдулица", "Ана Анић", "3.582,68 RSD"),
        ("sr-latn", "Opština Surdulica", "Ana Anić", "3.582,68 RSD"),
        ("en", "Municipality of Surdulica", "Ана Анић", "3,582.68 RSD"),
    ],
)
def test_overtime_pay_slip(
    overtime_case: Case,
    tmp_path: Path,
    language: str,
    authority_name: str,
    employee: str,
    amount: str,
) -> None:
    assert overtime_case.inputs["overtime_pay"] == "3582.684"
    pdf = document(overtime_case, "pay_slip", language)
    assert pdf.startswith(b"%PDF-")
    assert_one_a4_page(pdf, tmp_path)

    text = pdftotext(pdf, tmp_path)
    assert f"{overtime_case.registry_number}-1" in text
    assert authority_name.upper() in text  # the letterhead is in capitals
    assert employee in text
    assert amount in text
    hourly = "812.40 RSD" if language == "en" else "812,40 RSD"
    hours = "3.5" if language == "en" else "3,5"
    assert f"{hours} × {hourly} ×" in text
    assert "100981234" in text and "07182589" in text  # PIB and MB of the authority
    assert CODE in text
    assert "http://127.0.0.1:8000/verify/7K3M-Q9TX-2HWP/" in text
    if language == "sr-latn":
        assert not CYRILLIC.search(text), "the Latin pay slip has nothing typed in Cyrillic"


# --- the newborn-aid decision -----------------------------------------------------------------


TYPED = [
    NEWBORN_FORM["parent_name"],
    NEWBORN_FORM["parent_address"],
    NEWBORN_FORM["child_name"],
    *REASONING.split("\n"),
]


@pytest.mark.parametrize(
    ("language", "authority_name", "born", "amount"),
    [
        ("sr", "Општина Сурдулица", "1. новембра 2026.", "у износу од 20.000,00 RSD"),
        ("sr-latn", "Opština Surdulica", "1. novembra 2026.", "u iznosu od 20.000,00 RSD"),
        ("en", "Municipality of Surdulica", "Nov. 1, 2026", "in the amount of 20,000.00 RSD"),
    ],
)
def test_newborn_aid_decision_granted(
    letterhead: Authority,
    unit: OrgUnit,
    system: Actor,
    citizen: User,
    tmp_path: Path,
    language: str,
    authority_name: str,
    born: str,
    amount: str,
) -> None:
    case = newborn_case(letterhead, unit, system, citizen)
    pdf = document(case, "decision", language)
    assert_one_a4_page(pdf, tmp_path)
    title = pdfinfo(pdf, tmp_path)["Title"]
    assert title.endswith(f" {case.registry_number}-1") and "translit" not in title

    text = pdftotext(pdf, tmp_path)
    assert f"{case.registry_number}-1" in text
    assert case.registry_number in text  # the case's number, in the reasoning
    assert authority_name.upper() in text  # the letterhead
    assert authority_name in text  # the preamble
    for typed in TYPED:  # as typed, Cyrillic in every language (translit:off)
        assert typed in text
    assert NEWBORN_FORM["parent_jmbg"] in text and NEWBORN_FORM["child_jmbg"] in text
    assert NEWBORN_FORM["bank_account"] in text
    assert born in text  # in Serbian the month in the genitive
    assert CODE in text
    assert case.inputs["amount"] == "20000"  # the pilot's definition sets the amount
    assert amount in text
    if language == "sr-latn":
        rest = text
        for typed in TYPED:
            rest = rest.replace(typed, "")
        assert not CYRILLIC.search(rest), "only what people typed stays in Cyrillic"


def test_newborn_aid_decision_with_an_amount_and_a_refusal(
    letterhead: Authority, unit: OrgUnit, system: Actor, citizen: User, tmp_path: Path
) -> None:
    case = newborn_case(letterhead, unit, system, citizen)
    # The amount comes from the case (the pilot's definition calculates a fixed one).
    case.inputs["amount"] = "35000.5"
    assert "35.000,50 RSD" in pdftotext(document(case, "decision", "sr"), tmp_path)
    assert "35,000.50 RSD" in pdftotext(document(case, "decision", "en"), tmp_path)
    del case.inputs["amount"]
    assert "RSD" not in html(case, "decision", "en")  # no amount: none stated
    case.inputs["amount"] = "35000.5"

    granted_html = html(case, "decision", "en")
    case.inputs["decision_outcome"] = "refused"
    refused_html = html(case, "decision", "en")
    assert "is granted to" in granted_html and "is granted to" not in refused_html
    assert "is refused" in refused_html and "is refused" not in granted_html
    assert "current account" not in refused_html  # nothing is paid


# --- Serbian that agrees: dates, gender, the signer's title ----------------------------------


def test_dates_in_serbian_documents_take_the_month_in_the_genitive(
    letterhead: Authority,
    unit: OrgUnit,
    system: Actor,
    citizen: User,
    tmp_path: Path,
    time_machine: Any,
) -> None:
    # The date of the application is the day the case is made: the clock is pinned first (no
    # signature here, so the development PKI's real day does not matter).
    time_machine.move_to(timezone.make_aware(datetime(2026, 12, 7, 10, 30)))
    case = newborn_case(letterhead, unit, system, citizen)
    issued = date(2026, 12, 9)
    sr = pdftotext(document(case, "decision", "sr", issued_at=issued), tmp_path)
    assert "Датум: 9. децембра 2026." in sr  # the letterhead
    assert "рођено 1. новембра 2026. године" in sr  # the child's birth date
    assert "поднела је 7. децембра 2026. године" in sr  # the date of the application
    assert "децембар" not in sr and "новембар " not in sr
    latin = pdftotext(document(case, "decision", "sr-latn", issued_at=issued), tmp_path)
    assert "Datum: 9. decembra 2026." in latin
    assert "rođeno 1. novembra 2026. godine" in latin
    assert "podnela je 7. decembra 2026. godine" in latin
    en = pdftotext(document(case, "decision", "en", issued_at=issued), tmp_path)
    assert "Date: Dec. 9, 2026" in en and "born on Nov. 1, 2026" in en
    assert "On Dec. 7, 2026, " in en
    with translation.override("sr"):
        months = [rendering.format_date(date(2026, month, 1)) for month in range(1, 13)]
    assert months[0] == "1. јануара 2026." and months[4] == "1. маја 2026."
    assert all(m.endswith("а 2026.") for m in months)
    assert rendering.format_date("2026-13-45") == "2026-13-45"  # not a date: left as it is


MALE_JMBG = "0101990710121"  # digits 10–12: 012, a man
NOT_A_JMBG = "0101990715019"  # the check digit is wrong: gender unknown


@pytest.mark.parametrize(
    ("jmbg", "sr_words", "latin_words"),
    [
        (
            NEWBORN_FORM["parent_jmbg"],  # 501: a woman
            [
                "по захтеву подноситељке Јована",
                "подноситељки захтева Јована",
                "Подноситељка захтева Јована Јовановић поднела је",
            ],
            ["po zahtevu podnositeljke", "podnositeljki zahteva", "Podnositeljka zahteva"],
        ),
        (
            MALE_JMBG,
            [
                "по захтеву подносиоца Јована",
                "подносиоцу захтева Јована",
                "Подносилац захтева Јована Јовановић поднео је",
            ],
            ["po zahtevu podnosioca", "podnosiocu zahteva", "Podnosilac zahteva"],
        ),
        (
            NOT_A_JMBG,
            [
                "по захтеву подносиоца Јована",
                "подносиоцу захтева Јована",
                "овом органу поднет је захтев",
                "(подносилац захтева: Јована Јовановић)",
            ],
            ["po zahtevu podnosioca", "podnosiocu zahteva", "ovom organu podnet je zahtev"],
        ),
    ],
    ids=["female", "male", "unknown"],
)
def test_words_that_agree_with_the_parent_take_the_gender_of_the_parents_jmbg(
    letterhead: Authority,
    unit: OrgUnit,
    system: Actor,
    citizen: User,
    tmp_path: Path,
    jmbg: str,
    sr_words: list[str],
    latin_words: list[str],
) -> None:
    case = newborn_case(letterhead, unit, system, citizen)
    case.data["parent_jmbg"] = jmbg
    sr = pdftotext(document(case, "decision", "sr"), tmp_path)
    for words in sr_words:
        assert words in sr
    latin = pdftotext(document(case, "decision", "sr-latn"), tmp_path)
    for words in latin_words:
        assert words in latin
    for text in (sr, latin):
        assert "/ла" not in text and "/la" not in text  # never "поднео/ла"
    if jmbg == NOT_A_JMBG:
        assert "поднео" not in sr and "поднела" not in sr
    en = html(case, "decision", "en")
    assert "applied to this authority" in en and "is granted to" in en  # English has no gender

    case.inputs["decision_outcome"] = "refused"
    refused = html(case, "decision", "sr")
    expected = (
        "Одбија се захтев подноситељке"
        if jmbg == NEWBORN_FORM["parent_jmbg"]
        else ("Одбија се захтев подносиоца")
    )
    assert expected in refused


@pytest.mark.parametrize(
    ("gender", "title", "signed"),
    [
        ("female", "Начелница одељења", "Електронски потписала Ана Анић"),
        ("male", "Начелник одељења", "Електронски потписао Ана Анић"),
        ("", "Начелник одељења", "Електронски потпис: Ана Анић"),
    ],
)
def test_the_signers_title_comes_from_the_role_that_signs(
    letterhead: Authority,
    unit: OrgUnit,
    system: Actor,
    citizen: User,
    tmp_path: Path,
    gender: str,
    title: str,
    signed: str,
) -> None:
    case = newborn_case(letterhead, unit, system, citizen)
    # The pilot's head of unit signs the decision (the last step of its approval line).
    assert rendering.signing_role(case.service_version.definition, "decision") == "head_of_unit"
    sr = pdftotext(
        document(case, "decision", "sr", signer_name="Ана Анић", signer_gender=gender), tmp_path
    )
    assert title in sr and signed in sr
    assert "Начелник Издато" not in sr  # not the fixed word of before
    assert "/ла" not in sr
    en = pdftotext(
        document(case, "decision", "en", signer_name="Ана Анић", signer_gender=gender), tmp_path
    )
    assert "Head of unit" in en and "Signed electronically by Ана Анић" in en


def test_a_draft_and_the_pay_slip_name_the_title_of_the_signing_role(
    letterhead: Authority,
    unit: OrgUnit,
    system: Actor,
    citizen: User,
    overtime_case: Case,
    tmp_path: Path,
) -> None:
    draft = newborn_case(letterhead, unit, system, citizen)
    assert "Начелник одељења" in pdftotext(document(draft, "decision", "sr"), tmp_path)
    assert "Načelnik odeljenja" in pdftotext(document(draft, "decision", "sr-latn"), tmp_path)
    # The overtime pay slip is signed by the approver (the accountant).
    definition = overtime_case.service_version.definition
    assert rendering.signing_role(definition, "pay_slip") == "approver"
    for language, title in [
        ("sr", "Овлашћено лице"),
        ("sr-latn", "Ovlašćeno lice"),
        ("en", "Authorised official"),
    ]:
        text = pdftotext(document(overtime_case, "pay_slip", language), tmp_path)
        assert title in text, language
        assert "Рачуноводство" not in text and "Računovodstvo" not in text
    # A certificate the authority only seals has no signing role: its line names the office.
    property_definition = pilots.PROPERTY_CERTIFICATE.definition()
    assert rendering.signing_role(property_definition, "certificate") == ""
    assert rendering.signer_title("", "female") == ""


def test_a_long_decision_runs_over_pages_with_the_code_on_each(
    letterhead: Authority, unit: OrgUnit, system: Actor, citizen: User, tmp_path: Path
) -> None:
    paragraph = "Утврђено је да су испуњени сви услови прописани одлуком општине. " * 12
    case = newborn_case(letterhead, unit, system, citizen, reasoning="\n\n".join([paragraph] * 10))
    pdf = document(case, "decision", "sr")
    pages = int(pdfinfo(pdf, tmp_path)["Pages"])
    assert pages >= 2
    path = tmp_path / "long.pdf"
    path.write_bytes(pdf)
    for page in range(1, pages + 1):
        text = subprocess.run(
            ["pdftotext", "-f", str(page), "-l", str(page), str(path), "-"],
            capture_output=True,
            check=True,
        ).stdout.decode("utf-8")
        assert CODE in text, f"page {page} carries the verification code"
        assert f"{page} of {pages}" in text or f"{page} од {pages}" in text


# --- security: typed text is text, and nothing is fetched -------------------------------------


class _Recorder(BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        self.requests.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def web_server() -> Iterator[tuple[int, list[str]]]:
    """A real HTTP server on 127.0.0.1 that records every request it gets."""
    requests: list[str] = []
    handler = type("Handler", (_Recorder,), {"requests": requests})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], requests
    server.shutdown()
    server.server_close()


def test_typed_markup_is_printed_as_text_and_fetches_nothing(
    letterhead: Authority,
    unit: OrgUnit,
    system: Actor,
    citizen: User,
    tmp_path: Path,
    web_server: tuple[int, list[str]],
) -> None:
    port, requests = web_server
    script = "<script>alert(1)</script>"
    image = f'<img src="http://127.0.0.1:{port}/x.png">'
    case = newborn_case(
        letterhead,
        unit,
        system,
        citizen,
        parent_name=script,
        parent_address=image,
        reasoning=f'<link rel="stylesheet" href="http://127.0.0.1:{port}/x.css"> Образложење.',
    )
    source = html(case, "decision", "sr-latn")
    assert "<script>" not in source and "<img" not in source and "<link" not in source
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in source

    fetcher = LocalOnlyFetcher()
    pdf = render_pdf(source, url_fetcher=fetcher)
    text = pdftotext(pdf, tmp_path)
    assert script in text
    assert image in text
    assert fetcher.refused == []  # nothing even tried
    assert requests == []


def test_the_fetcher_refuses_everything_but_files_in_the_static_folder(
    tmp_path: Path, web_server: tuple[int, list[str]]
) -> None:
    port, requests = web_server
    static = rendering.static_dir()
    inside = static / "salter" / "salter.css"
    assert inside.is_file()
    outside = tmp_path / "secret.css"
    outside.write_text("body { color: red }")
    hostile = f"""<!DOCTYPE html><html><head>
      <link rel="stylesheet" href="http://127.0.0.1:{port}/a.css">
      <link rel="stylesheet" href="{outside.as_uri()}">
      <link rel="stylesheet" href="salter/../../../../../../etc/passwd">
      <style>@import url("https://127.0.0.1:{port}/b.css");
             body {{ background: url("ftp://127.0.0.1:{port}/c.png") }}</style>
      <link rel="stylesheet" href="salter/salter.css">
    </head><body><p>x</p>
      <img src="http://127.0.0.1:{port}/d.png">
      <img src="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E">
    </body></html>"""
    fetcher = LocalOnlyFetcher()
    assert render_pdf(hostile, url_fetcher=fetcher).startswith(b"%PDF-")

    assert requests == [], "no request reached the server"
    refused = " ".join(fetcher.refused)
    for name in ("a.css", "b.css", "c.png", "d.png", "secret.css", "etc/passwd", "data:"):
        assert name in refused
    assert inside.as_uri() not in fetcher.refused  # our own static file is served

    direct = LocalOnlyFetcher()
    assert direct.fetch(inside.as_uri()).read() == inside.read_bytes()
    for url in (f"file://{static}/salter/../../settings/base.py", "file:///etc/hostname"):
        with pytest.raises(ValueError, match="local files only"):
            direct.fetch(url)


# --- the QR code ------------------------------------------------------------------------------


def printed_qr(pdf: bytes, tmp_path: Path, size: int) -> list[list[bool]]:
    """Read the QR code in the bottom-left margin of page 1 back from a 300 dpi image: find its
    top-left module and its width (the top row ends with a finder pattern), then sample the
    centre of each of the ``size`` × ``size`` modules."""
    path = tmp_path / "page.pdf"
    path.write_bytes(pdf)
    png = subprocess.run(
        ["pdftoppm", "-r", "300", "-gray", "-png", "-f", "1", "-l", "1", str(path)],
        capture_output=True,
        check=True,
    ).stdout
    page = Image.open(BytesIO(png)).convert("L")
    width, height = page.size
    mm = 300 / 25.4
    # The bottom margin (42 mm) below the text, left half of the page.
    area = page.crop((0, height - int(42 * mm), width // 2, height))
    grey = area.tobytes()
    dark = [[grey[y * area.width + x] < 128 for x in range(area.width)] for y in range(area.height)]
    top = next(y for y, row in enumerate(dark) if any(row))
    left = dark[top].index(True)
    right = len(dark[top]) - dark[top][::-1].index(True)
    module = (right - left) / size
    assert 4 < module < 20, module
    return [
        [dark[int(top + (r + 0.5) * module)][int(left + (c + 0.5) * module)] for c in range(size)]
        for r in range(size)
    ]


def test_the_qr_code_encodes_the_public_verification_url(
    overtime_case: Case, tmp_path: Path, settings: Any
) -> None:
    settings.SALTER_PUBLIC_URL = "https://salter.example.rs/"
    url = "https://salter.example.rs/verify/7K3M-Q9TX-2HWP/"
    assert rendering.verification_url(CODE) == url
    expected = segno.make(url, error="m")
    pdf = document(overtime_case, "pay_slip", "sr")
    assert url in pdftotext(pdf, tmp_path)

    size = int(expected.symbol_size(border=0)[0])
    matrix = [[bool(bit) for bit in row] for row in expected.matrix]
    assert printed_qr(pdf, tmp_path, size) == matrix


# --- refusals ---------------------------------------------------------------------------------


def test_unknown_documents_templates_and_languages_are_refused(overtime_case: Case) -> None:
    with pytest.raises(DocumentError, match="no document 'decision'"):
        html(overtime_case, "decision")
    with pytest.raises(DocumentError, match="language"):
        html(overtime_case, "pay_slip", "de")
    definition: dict[str, Any] = overtime_case.service_version.definition
    for template in ("base.html", "documents/pdf/../../base.html"):
        definition["documents"][0]["template"] = template
        with pytest.raises(DocumentError, match="must be under documents/pdf/"):
            html(overtime_case, "pay_slip")
