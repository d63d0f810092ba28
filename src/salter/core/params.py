"""The one parser for what a request carries: ids, whole numbers, page sizes, cursors, dates,
choices and short texts.

Every page and API handler reads its query and form parameters through these functions, so
that a value a caller typed, cut or made up — out of range, of the wrong type, not among the
choices — is refused in one way: :class:`BadParameter`, with the parameter's name and a
sentence for people. The API answers it 422 in the error shape of ``docs/api.md``
(:mod:`salter.core.errors`); a page answers 400 with the sentence, in the reader's language
(:class:`BadParameterMiddleware`). Nothing a caller sends reaches the database as a number it
cannot hold (an ``OverflowError`` on SQLite, a ``DataError`` on PostgreSQL: a 500).

An absent or empty parameter is not an error: it reads as ``None`` or the default.

For the API, pydantic reads integer parameters; :data:`Id` bounds them the same way, and
:class:`IdConverter` bounds ``<id:…>`` in the URL patterns of the pages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from datetime import date
from typing import Annotated, Any, TypeVar

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.datastructures import MultiValueDict
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from ninja.parser import Parser
from pydantic import BeforeValidator, Field

__all__ = [
    "MAX_ID",
    "BadParameter",
    "BadParameterMiddleware",
    "Id",
    "IdConverter",
    "Text",
    "TextParser",
    "choice",
    "cursor",
    "optional_date",
    "optional_id",
    "optional_number",
    "number",
    "page_size",
    "text",
]

T = TypeVar("T")

MAX_ID = 2**63 - 1  # the largest bigint: PostgreSQL's and SQLite's widest integer

# An id in the API (a path or query parameter, a field of a body): 1 … MAX_ID, else 422.
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def _without_nul(value: Any) -> Any:
    """``value`` with each NUL character in its texts (keys too) read as U+FFFD."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    return value


# A text of an API body that a handler reads itself, outside django-ninja's parser: a NUL
# reads as U+FFFD, as :class:`TextParser` reads it.
Text = Annotated[str, BeforeValidator(_without_nul)]

_DIGITS = re.compile(r"[0-9]{1,19}")  # ASCII only: int() also reads "+1", "1_0", "١"
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # date.fromisoformat also reads "20260101"

NOT_AN_ID = _("The link or the form names something by a number that cannot be right.")
NOT_A_NUMBER = _("A number in the link or the form is not a whole number in the range allowed.")
NOT_A_CURSOR = _("The link to this page is not valid any more. Start again from the first page.")
NOT_A_DATE = _("A date in the link or the form is not a date: write it as 2026-03-31.")
NOT_A_CHOICE = _("A value in the link or the form is not one of the choices offered.")
NOT_TEXT = _("A text in the link or the form holds characters that cannot be stored.")


class BadParameter(ValueError):
    """A parameter of a request that does not read: ``name`` is the parameter's, ``message``
    a sentence for the person who sent it (never the value, never a traceback)."""

    def __init__(self, name: str, message: str | Promise) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


def _raw(params: Mapping[str, Any], name: str) -> str:
    value = params.get(name)
    return "" if value is None else str(value).strip()


def _whole(name: str, raw: str, low: int, high: int, message: str | Promise) -> int:
    if not _DIGITS.fullmatch(raw):
        raise BadParameter(name, message)
    value = int(raw)
    if not low <= value <= high:
        raise BadParameter(name, message)
    return value


def optional_id(params: Mapping[str, Any], name: str) -> int | None:
    """The id in ``params[name]`` (1 … :data:`MAX_ID`), or ``None`` when it is absent or
    empty."""
    raw = _raw(params, name)
    return _whole(name, raw, 1, MAX_ID, NOT_AN_ID) if raw else None


def optional_number(
    params: Mapping[str, Any], name: str, *, minimum: int = 0, maximum: int = MAX_ID
) -> int | None:
    """A whole number between ``minimum`` and ``maximum``, or ``None`` when absent or empty."""
    raw = _raw(params, name)
    return _whole(name, raw, minimum, maximum, NOT_A_NUMBER) if raw else None


def number(
    params: Mapping[str, Any], name: str, *, default: int, minimum: int = 0, maximum: int = MAX_ID
) -> int:
    """A whole number between ``minimum`` and ``maximum``; ``default`` when absent or empty."""
    found = optional_number(params, name, minimum=minimum, maximum=maximum)
    return default if found is None else found


def page_size(params: Mapping[str, Any], name: str, *, default: int, maximum: int) -> int:
    """How many rows a page shows: 1 … ``maximum``, ``default`` when not asked."""
    return number(params, name, default=default, minimum=1, maximum=maximum)


def cursor(params: Mapping[str, Any], name: str, decode: Callable[[str], T | None]) -> T | None:
    """The position in an opaque cursor (:mod:`salter.core.cursors`), read by ``decode``
    (which answers ``None`` for anything that is not one of its cursors); ``None`` when the
    parameter is absent or empty: the first page."""
    raw = _raw(params, name)
    if not raw:
        return None
    position = decode(raw)
    if position is None:
        raise BadParameter(name, NOT_A_CURSOR)
    return position


def optional_date(params: Mapping[str, Any], name: str) -> date | None:
    """A calendar date written ``YYYY-MM-DD``, or ``None`` when absent or empty."""
    raw = _raw(params, name)
    if not raw:
        return None
    if not _DATE.fullmatch(raw):
        raise BadParameter(name, NOT_A_DATE)
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadParameter(name, NOT_A_DATE) from None


def choice(
    params: Mapping[str, Any], name: str, choices: Collection[str], default: str = ""
) -> str:
    """One of ``choices``; ``default`` when absent or empty."""
    raw = _raw(params, name)
    if not raw:
        return default
    if raw not in choices:
        raise BadParameter(name, NOT_A_CHOICE)
    return raw


def text(params: Mapping[str, Any], name: str, *, max_length: int, default: str = "") -> str:
    """A short free text, cut to ``max_length``: what a search box or a form field sends. A
    NUL character is refused (PostgreSQL cannot store it in a text)."""
    value = params.get(name)
    found = default if value is None else str(value)
    if "\x00" in found:
        raise BadParameter(name, NOT_TEXT)
    return found[:max_length]


class TextParser(Parser):
    """The API's parser (django-ninja's, and then): a query string or a form field holding a
    NUL character is a :class:`BadParameter`, as on the pages; in a JSON body — where JSON
    allows it and a client may have escaped it in good faith — a NUL reads as U+FFFD, the
    replacement character, as the HTML standard reads it. PostgreSQL stores no NUL in a text,
    so none may reach a model."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        return dict(_without_nul(super().parse_body(request)))

    def parse_querydict(
        self, data: MultiValueDict[str, Any], list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        for name, values in data.lists():
            if any(isinstance(v, str) and "\x00" in v for v in values):
                raise BadParameter(name, NOT_TEXT)
        return super().parse_querydict(data, list_fields, request)


class IdConverter:
    """``<id:name>`` in a URL pattern: a whole number of at most 18 digits, which any id of a
    table fits. A longer one matches no pattern, so the address is a plain 404."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


class BadParameterMiddleware:
    """A page whose parameter does not read answers 400 with the sentence, in the reader's
    language, rather than a server error. (The API answers its own 422, before this.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        """A NUL character in any field of a page's query or form: PostgreSQL stores none, so
        it would fail deep in a view (a 500). The form is read here only when it is a plain
        form or has been read already (by the CSRF check): a view that sets its own upload
        handlers still can. The API reads its bodies itself (:class:`TextParser`)."""
        if request.path_info.startswith(("/api/", "/registers/")):
            return None
        fields = [request.GET]
        if request.content_type == "application/x-www-form-urlencoded" or hasattr(request, "_post"):
            fields.append(request.POST)
        for data in fields:
            for key, values in data.lists():
                if "\x00" in key or any("\x00" in value for value in values):
                    return self._refused(request, BadParameter(key, NOT_TEXT))
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, BadParameter):
            return None
        return self._refused(request, exception)

    @staticmethod
    def _refused(request: HttpRequest, problem: BadParameter) -> HttpResponse:
        return render(request, "core/bad_parameter.html", {"problem": problem}, status=400)
