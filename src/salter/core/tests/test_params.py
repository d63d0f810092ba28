"""The one parser for parameters: what reads, what does not, and that whatever a caller sends
either reads or is a BadParameter with a sentence for people — never another exception."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

import pytest
from django.http import QueryDict
from django.test import Client, RequestFactory
from django.utils import translation
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from salter.core import params
from salter.core.params import MAX_ID, BadParameter

ID = TypeAdapter(params.Id)
TEXT = TypeAdapter(params.Text)
HOSTILE = ["99999999999999999999", "-1", "0", "abc", "\x00", "2026-13-45", "1e309", "NaN",
           "' OR 1=1--", "x" * 5000, "+5", "1_000", "١٢", "0x10", "1.0"]  # fmt: skip


def q(**values: str) -> QueryDict:
    query = QueryDict(mutable=True)
    query.update(values)
    return query


def refused(read: Any, *args: Any, **kwargs: Any) -> BadParameter:
    with pytest.raises(BadParameter) as caught:
        read(*args, **kwargs)
    return caught.value


# --- ids ----------------------------------------------------------------------------------------


@given(st.integers(min_value=1, max_value=MAX_ID))
def test_an_id_in_range_reads_as_written(pk: int) -> None:
    assert params.optional_id(q(authority=str(pk)), "authority") == pk
    assert ID.validate_python(pk) == pk


@given(st.integers().filter(lambda n: not 1 <= n <= MAX_ID))
@example(0)
@example(MAX_ID + 1)
@example(99999999999999999999)
def test_an_id_out_of_range_is_refused(pk: int) -> None:
    problem = refused(params.optional_id, q(authority=str(pk)), "authority")
    assert problem.name == "authority"
    with pytest.raises(ValidationError):
        ID.validate_python(pk)


@given(st.text(max_size=30))
@example("１２")  # full-width digits: int() reads them
@example("²")
def test_any_text_is_an_id_or_refused(value: str) -> None:
    try:
        found = params.optional_id(q(box=value), "box")
    except BadParameter as problem:
        assert problem.name == "box"
    else:
        assert found is None or 1 <= found <= MAX_ID
        assert found is None or value.strip().isascii()


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_are_refused_as_ids(value: str) -> None:
    refused(params.optional_id, q(case=value), "case")


def test_an_absent_or_empty_id_is_none() -> None:
    assert params.optional_id(q(), "case") is None
    assert params.optional_id(q(case=""), "case") is None
    assert params.optional_id({"case": None}, "case") is None


# --- whole numbers and page sizes ---------------------------------------------------------------


@given(st.integers(min_value=1, max_value=200), st.integers(min_value=-(10**30), max_value=10**30))
def test_a_page_size_is_within_its_bounds_or_refused(maximum: int, asked: int) -> None:
    try:
        size = params.page_size(q(limit=str(asked)), "limit", default=20, maximum=maximum)
    except BadParameter as problem:
        assert problem.name == "limit" and not 1 <= asked <= maximum
    else:
        assert size == asked and 1 <= size <= maximum


def test_a_page_size_not_asked_is_the_default() -> None:
    assert params.page_size(q(), "limit", default=20, maximum=100) == 20


def test_a_number_keeps_to_its_range() -> None:
    assert params.number(q(year="2026"), "year", default=1, minimum=1, maximum=9999) == 2026
    assert params.number(q(), "year", default=2025, minimum=1, maximum=9999) == 2025
    refused(params.number, q(year="10000"), "year", default=1, minimum=1, maximum=9999)
    assert params.optional_number(q(expected_version="0"), "expected_version") == 0
    refused(params.optional_number, q(expected_version="-1"), "expected_version")


# --- dates --------------------------------------------------------------------------------------


@given(st.dates())
def test_a_date_reads_as_written(day: date) -> None:
    assert params.optional_date(q(since=day.isoformat()), "since") == day


@given(st.text(max_size=20))
@example("2026-13-45")
@example("2026-02-30")
@example("20260101")  # ISO, but not the form asked for
@example("2026-W01-1")
def test_any_text_is_a_date_or_refused(value: str) -> None:
    try:
        found = params.optional_date(q(since=value), "since")
    except BadParameter as problem:
        assert problem.name == "since"
    else:
        assert found is None or found.isoformat() == value.strip()


# --- cursors, choices, texts --------------------------------------------------------------------


def test_a_cursor_reads_through_its_decoder_and_a_bad_one_is_refused() -> None:
    def decode(text: str) -> tuple[int, int] | None:
        return (1, 2) if text == "good" else None

    assert params.cursor(q(after="good"), "after", decode) == (1, 2)
    assert params.cursor(q(), "after", decode) is None
    assert refused(params.cursor, q(after="zzz"), "after", decode).name == "after"


def test_a_choice_is_one_offered() -> None:
    assert params.choice(q(kind="case"), "kind", ("case", "new")) == "case"
    assert params.choice(q(), "kind", ("case", "new"), default="new") == "new"
    refused(params.choice, q(kind="other"), "kind", ("case", "new"))


@given(st.text())
def test_a_text_is_cut_and_holds_no_nul(value: str) -> None:
    try:
        found = params.text(q(q=value), "q", max_length=100)
    except BadParameter:
        assert "\x00" in value
    else:
        assert found == value[:100] and "\x00" not in found


def test_an_api_text_reads_a_nul_as_the_replacement_character() -> None:
    assert TEXT.validate_python("a\x00b") == "a\ufffdb"


# --- the sentence for people --------------------------------------------------------------------


def test_the_message_is_a_sentence_in_the_readers_language() -> None:
    problem = refused(params.optional_id, q(authority="abc"), "authority")
    with translation.override("en"):
        english = str(problem.message)
    assert english.endswith(".") and "authority" not in english
    with translation.override("sr"):
        assert str(problem.message)  # translated once the catalogue has it


def test_the_api_parser_refuses_a_nul_in_a_query_string() -> None:
    request = RequestFactory().get("/api/v1/cases/queue", {"state": "\x00"})
    with pytest.raises(BadParameter):
        params.TextParser().parse_querydict(request.GET, [], request)


def test_the_api_parser_reads_a_nul_in_a_body_as_the_replacement_character() -> None:
    request = RequestFactory().post(
        "/api/v1/cases", data='{"a": ["\\u0000"], "\\u0000": 1}', content_type="application/json"
    )
    assert params.TextParser().parse_body(request) == {"a": ["\ufffd"], "\ufffd": 1}


def test_an_id_in_a_url_pattern_has_at_most_eighteen_digits() -> None:
    converter = params.IdConverter()
    assert converter.to_python("9" * 18) == 10**18 - 1 <= MAX_ID
    assert converter.regex == "[0-9]{1,18}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "url", "data"),
    [
        ("post", "/login/", {"username": "a\x00b@example.rs", "password": "x"}),
        ("get", "/login/", {"next": "/\x00"}),
        ("post", "/register/", {"email": "n\x00@example.rs", "full_name": "Н\x00"}),
    ],
)
def test_a_nul_in_a_pages_form_or_query_is_a_400_page_not_a_server_error(
    method: str, url: str, data: dict[str, str]
) -> None:
    """PostgreSQL stores no NUL: one that reached a query would fail as a 500. (A browser
    posts a form urlencoded; a multipart one is read by the CSRF check before the view.)"""
    client = Client(raise_request_exception=False, headers={"accept-language": "en"})
    if method == "post":
        response = client.post(url, urlencode(data), "application/x-www-form-urlencoded")
    else:
        response = client.get(url, data)
    assert response.status_code == 400
    assert "holds characters that cannot be stored" in response.content.decode()
