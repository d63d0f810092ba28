"""Outgoing documents (decisions, pay slips) rendered to PDF with WeasyPrint.

A service definition lists its documents (``definition["documents"]``: code, label, template);
:func:`render_document` fills the document's template with the case — form data, the input
entered along the way and the calculated results —, the authority, the document's registry
number (a sub-number of the case's delovodni broj, given by the caller) and a QR code that points
to the public verification page, and returns the PDF. :func:`render_html` returns the HTML the
PDF is made from (previews, tests).

Three languages: ``sr`` (Cyrillic), ``sr-latn`` (the Cyrillic document transliterated, as the
site does for its pages: what people typed is kept as typed between ``translit:off`` markers)
and ``en``.

Security: case data is user input. Templates autoescape it, and WeasyPrint gets a URL fetcher
(:class:`LocalOnlyFetcher`) that refuses every URL but a file in the project's static folder,
so a document never reaches the network or reads a file it should not, whatever it contains.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import segno
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import pgettext_lazy
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from salter.cases.models import Case
from salter.core.translit import html_to_latin
from salter.identity.models import Role
from salter.identity.validators import jmbg_gender

LANGUAGES = ("sr", "sr-latn", "en")
HTML_LANG = {"sr": "sr-Cyrl", "sr-latn": "sr-Latn", "en": "en"}
# Templates of outgoing documents live here and nowhere else: a definition written in the
# service generator cannot make the renderer use any other template of the site.
TEMPLATE_PREFIX = "documents/pdf/"
_CENT = Decimal("0.01")
# A date in a Serbian sentence takes the month in the genitive: "7. децембра 2026." (Django's
# "E" would give the alternative month name, but its Serbian catalogue has the nominative).
# sr-Latn documents are transliterated from these.
SR_MONTHS_GENITIVE = (
    "јануара",
    "фебруара",
    "марта",
    "априла",
    "маја",
    "јуна",
    "јула",
    "августа",
    "септембра",
    "октобра",
    "новембра",
    "децембра",
)
# The title under the signature line, from the role of the step that signs: (the form for a
# man or when the signer is not known, the form for a woman).
SIGNER_TITLES: dict[str, tuple[Any, Any]] = {
    Role.CLERK: (
        pgettext_lazy("title of the official who signs", "Clerk"),
        pgettext_lazy("title of the official who signs, female", "Clerk"),
    ),
    Role.APPROVER: (
        pgettext_lazy("title of the official who signs", "Authorised official"),
        pgettext_lazy("title of the official who signs, female", "Authorised official"),
    ),
    Role.HEAD_OF_UNIT: (
        pgettext_lazy("title of the official who signs", "Head of unit"),
        pgettext_lazy("title of the official who signs, female", "Head of unit"),
    ),
    Role.REGISTRY_CLERK: (
        pgettext_lazy("title of the official who signs", "Registry clerk"),
        pgettext_lazy("title of the official who signs, female", "Registry clerk"),
    ),
    Role.ARCHIVIST: (
        pgettext_lazy("title of the official who signs", "Archivist"),
        pgettext_lazy("title of the official who signs, female", "Archivist"),
    ),
    Role.AUTHORITY_ADMIN: (
        pgettext_lazy("title of the official who signs", "Authority administrator"),
        pgettext_lazy("title of the official who signs, female", "Authority administrator"),
    ),
}


class DocumentError(ValueError):
    """The definition has no such document, or its template is not a document template."""


# --- the URL fetcher --------------------------------------------------------------------------


def static_dir() -> Path:
    return Path(settings.BASE_DIR, "static").resolve()


class LocalOnlyFetcher(URLFetcher):
    """Serves files under the static folder and refuses everything else — http(s), ftp,
    data: and any file outside it — without opening a connection. ``refused`` lists the URLs
    it turned down (for logs and tests)."""

    def __init__(self, root: Path | None = None) -> None:
        super().__init__(timeout=1, allowed_protocols=("file",), allow_redirects=False)
        self.root = (root or static_dir()).resolve()
        self.refused: list[str] = []

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        path = self._local_path(url)
        if path is None:
            self.refused.append(url)
            raise ValueError(f"refused to fetch {url!r}: documents use local files only")
        return URLFetcherResponse(path.as_uri(), path.read_bytes())

    def _local_path(self, url: str) -> Path | None:
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            return None
        path = Path(unquote(parts.path)).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            return None
        return path


# --- formatting for the templates -------------------------------------------------------------


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def format_number(value: Decimal, language: str, places: int | None = None) -> str:
    """``3582.684`` → ``3.582,684`` in Serbian, ``3,582.684`` in English; ``places`` rounds
    half-up first (for display only: the stored value keeps every digit)."""
    if places is not None:
        value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = f"{value:,f}"
    if places is None and "." in text:
        text = text.rstrip("0").rstrip(".")
    if language == "en":
        return text
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def format_money(value: Any, language: str) -> str:
    number = _decimal(value)
    if number is None:
        return ""
    return f"{format_number(number.quantize(_CENT, rounding=ROUND_HALF_UP), language, 2)} RSD"


def format_date(value: Any) -> str:
    """A date, a datetime (shown in Belgrade time) or an ISO date string, in the active
    language's long date format — in Serbian with the month in the genitive, as a date stands
    in a sentence ("7. децембра 2026."); anything else is returned as text."""
    if isinstance(value, datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    elif isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value
    if not isinstance(value, date):
        return "" if value is None else str(value)
    if translation.get_language() == "sr":
        return f"{value.day}. {SR_MONTHS_GENITIVE[value.month - 1]} {value.year}."
    return formats.date_format(value, "DATE_FORMAT")


@dataclass(frozen=True)
class Formatted(Mapping[str, str]):
    """The case's values formatted one way, looked up by field name in a template:
    ``{{ money.overtime_pay }}``, ``{{ number.actual_hours }}``, ``{{ dates.child_birth_date }}``,
    ``{{ kept.parent_name }}`` (the text as typed: escaped, and kept out of the sr-Latn
    transliteration by ``translit:off`` markers), ``{{ gender.parent_jmbg }}`` (``female`` or
    ``male`` from a valid JMBG, for the words that agree with the person). A missing or
    unreadable value is an empty string, so ``{% if money.amount %}`` works."""

    source: Mapping[str, Any]
    kind: str
    language: str

    def __getitem__(self, key: str) -> str:
        if key not in self.source:
            raise KeyError(key)
        value = self.source[key]
        if self.kind == "text":
            return keep_as_typed(value)
        if self.kind == "money":
            return format_money(value, self.language)
        if self.kind == "date":
            return format_date(value)
        if self.kind == "gender":
            return jmbg_gender(value)
        number = _decimal(value)
        return "" if number is None else format_number(number, self.language)

    def __iter__(self) -> Any:
        return iter(self.source)

    def __len__(self) -> int:
        return len(self.source)


def keep_as_typed(value: Any) -> SafeString:
    """``value`` escaped, between the markers that keep it out of the transliteration."""
    text = "" if value is None else str(value)
    return format_html("<!--translit:off-->{}<!--translit:on-->", text)


# --- the QR code ------------------------------------------------------------------------------


def verification_url(verification_code: str) -> str:
    base = settings.SALTER_PUBLIC_URL.rstrip("/")
    return f"{base}/verify/{verification_code}/"


def qr_svg(url: str) -> SafeString:
    """The QR code of ``url`` as inline SVG (vector, so it prints sharp; no fetch needed).
    segno draws only paths, so nothing of the URL appears as markup."""
    qr = segno.make(url, error="m")
    svg = qr.svg_inline(scale=1, border=0, omitsize=True, svgclass="qr", lineclass=None)
    return mark_safe(svg)  # noqa: S308 - segno's own markup, no user text inside


# --- the signer -------------------------------------------------------------------------------


def signing_role(definition: Mapping[str, Any], code: str) -> str:
    """The role of the official who signs document ``code``: the last step of the approval line
    of the transition that signs it, else the first role of that transition; ``""`` when no
    transition signs it (an act sealed by the platform)."""
    for transition in definition.get("workflow", {}).get("transitions", []):
        spec = transition.get("document")
        if not isinstance(spec, Mapping) or spec.get("code") != code:
            continue
        if spec.get("action") != "sign":
            continue
        steps = transition.get("approval", {}).get("steps", [])
        if steps:
            return str(steps[-1].get("role", ""))
        roles = transition.get("roles", [])
        return str(roles[0]) if roles else ""
    return ""


def signer_title(role: str, gender: str) -> str:
    """The title under the signature line for ``role`` (the word for a woman when ``gender``
    is ``female``), ``""`` for a role without one."""
    titles = SIGNER_TITLES.get(role)
    if titles is None:
        return ""
    return str(titles[1] if gender == "female" else titles[0])


# --- rendering --------------------------------------------------------------------------------


def document_entry(case: Case, code: str) -> Mapping[str, Any]:
    definition: Mapping[str, Any] = case.service_version.definition
    for entry in definition.get("documents", []):
        if entry.get("code") == code:
            template = str(entry.get("template", ""))
            if not template.startswith(TEMPLATE_PREFIX) or ".." in template:
                raise DocumentError(
                    f"the template of document {code!r} must be under {TEMPLATE_PREFIX}"
                )
            return dict(entry)
    raise DocumentError(f"the service definition has no document {code!r}")


def _context(
    case: Case,
    entry: Mapping[str, Any],
    language: str,
    registry_number: str,
    verification_code: str,
    issued_at: date | datetime,
    draft: bool,
    signer_name: str,
    signer_gender: str,
) -> dict[str, Any]:
    values: dict[str, Any] = {**case.data, **case.inputs}
    role = signing_role(case.service_version.definition, str(entry["code"]))
    label = entry.get("label", {})
    url = verification_url(verification_code)
    return {
        "case": case,
        "authority": case.authority,
        "service": case.service_version.service,
        "applicant": case.applicant,
        "document": {"code": entry["code"], "label": label.get(language[:2]) or label.get("sr")},
        "values": values,
        "kept": Formatted(values, "text", language),
        "money": Formatted(values, "money", language),
        "number": Formatted(values, "number", language),
        "dates": Formatted(values, "date", language),
        "gender": Formatted(values, "gender", language),
        "registry_number": registry_number,
        "case_number": case.registry_number,
        "issued_on": format_date(issued_at),
        "submitted_on": format_date(case.submitted_at),
        "verification_code": verification_code,
        "verification_url": url,
        "qr_svg": qr_svg(url),
        "language": language,
        "html_lang": HTML_LANG[language],
        "draft": draft,
        "signer_name": signer_name,
        "signer_gender": signer_gender,
        "signer_title": signer_title(role, signer_gender),
    }


def render_html(
    case: Case,
    code: str,
    *,
    language: str = "sr",
    registry_number: str,
    verification_code: str,
    issued_at: date | datetime,
    draft: bool = False,
    signer_name: str = "",
    signer_gender: str = "",
) -> str:
    """The HTML of document ``code`` of ``case`` in ``language`` (``sr``, ``sr-latn``, ``en``);
    a ``draft`` is marked as such, a signed act names its signer under the signature line
    (``signer_gender``, ``female``/``male`` when known, chooses the words that agree)."""
    if language not in LANGUAGES:
        raise DocumentError(f"no documents in language {language!r}; one of {LANGUAGES}")
    entry = document_entry(case, code)
    # sr-Latn is the Cyrillic document transliterated, like the site's pages.
    active = "sr" if language == "sr-latn" else language
    with translation.override(active):
        context = _context(
            case,
            entry,
            language,
            registry_number,
            verification_code,
            issued_at,
            draft,
            signer_name,
            signer_gender,
        )
        html = render_to_string(entry["template"], context)
    return html_to_latin(html) if language == "sr-latn" else html


@dataclass
class _Fonts:
    """One FontConfiguration per thread, made once: building one costs a few milliseconds
    and it is not meant to be shared between threads."""

    local: threading.local = field(default_factory=threading.local)

    def get(self) -> FontConfiguration:
        config = getattr(self.local, "config", None)
        if config is None:
            config = self.local.config = FontConfiguration()
        return config


_fonts = _Fonts()


def render_pdf(html: str, *, url_fetcher: LocalOnlyFetcher | None = None) -> bytes:
    """HTML → PDF. Relative URLs resolve in the static folder; nothing else is fetched."""
    fetcher = url_fetcher or LocalOnlyFetcher()
    document = HTML(string=html, base_url=static_dir().as_uri() + "/", url_fetcher=fetcher).render(
        font_config=_fonts.get()
    )
    pdf = document.write_pdf()
    assert isinstance(pdf, bytes)
    return pdf


def render_document(
    case: Case,
    code: str,
    *,
    language: str = "sr",
    registry_number: str,
    verification_code: str,
    issued_at: date | datetime,
    draft: bool = False,
    signer_name: str = "",
    signer_gender: str = "",
) -> bytes:
    """The PDF of document ``code`` of ``case``: see the module's docstring."""
    html = render_html(
        case,
        code,
        language=language,
        registry_number=registry_number,
        verification_code=verification_code,
        issued_at=issued_at,
        draft=draft,
        signer_name=signer_name,
        signer_gender=signer_gender,
    )
    return render_pdf(html)
