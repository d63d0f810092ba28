"""Levels of assurance: the acr mapping, the level of a request, the view decorator, step-up."""

from __future__ import annotations

from importlib import import_module
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import PASSWORD
from django.conf import settings as django_settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from hypothesis import given
from hypothesis import strategies as st

from salter.identity import loa
from salter.identity.models import ApiToken, User

EIDAS = "http://eidas.europa.eu/LoA/"


# --- map_acr ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("acr", "level"),
    [
        (f"{EIDAS}low", loa.PASSWORD),
        (f"{EIDAS}substantial", loa.TWO_FACTOR),
        (f"{EIDAS}high", loa.HIGH),
        ("basic", loa.PASSWORD),
        ("medium", loa.TWO_FACTOR),
        ("high", loa.HIGH),
        ("HIGH", loa.PASSWORD),  # acr values are case-sensitive URIs or tokens
        (f"{EIDAS}high/", loa.PASSWORD),
        ("urn:example:something-else", loa.PASSWORD),
        ("", loa.PASSWORD),
        (None, loa.PASSWORD),
    ],
)
def test_map_acr(acr: str | None, level: int) -> None:
    assert loa.map_acr(acr) == level


def test_map_acr_follows_the_configuration(settings: Any) -> None:
    settings.SALTER_OIDC = {
        **settings.SALTER_OIDC,
        "acr_map": {"urn:rs:eid:loa:3": 3, "urn:rs:eid:loa:2": 2},
        "default_loa": 0,
    }

    assert loa.map_acr("urn:rs:eid:loa:3") == 3
    assert loa.map_acr("urn:rs:eid:loa:2") == 2
    assert loa.map_acr("high") == 0  # no longer in the map
    assert loa.map_acr(None) == 0


@given(st.text(max_size=60))
def test_map_acr_never_grants_more_than_the_map_says(acr: str) -> None:
    config: dict[str, Any] = django_settings.SALTER_OIDC
    expected = config["acr_map"].get(acr, config["default_loa"]) if acr else config["default_loa"]
    assert loa.map_acr(acr) == expected
    assert loa.map_acr(acr) in {loa.PASSWORD, loa.TWO_FACTOR, loa.HIGH}


# --- The level of a request -----------------------------------------------------------------


def _request(user: Any, level: int | None = None, path: str = "/cases/7/?tab=docs") -> HttpRequest:
    request = RequestFactory().get(path)
    request.user = user
    request.session = import_module(django_settings.SESSION_ENGINE).SessionStore()
    if level is not None:
        loa.set_level(request, level)
    return request


def test_the_level_of_a_request(citizen: User) -> None:
    assert loa.of(_request(AnonymousUser())) == 0
    assert loa.of(_request(citizen)) == loa.PASSWORD  # logged in, nothing more recorded
    assert loa.of(_request(citizen, loa.TWO_FACTOR)) == loa.TWO_FACTOR
    assert loa.of(_request(citizen, loa.HIGH)) == loa.HIGH

    # An API token carries the level of the session that created it, whatever the session says.
    request = _request(citizen, loa.HIGH)
    request.api_token = ApiToken(user=citizen, loa=loa.PASSWORD)  # type: ignore[attr-defined]
    assert loa.of(request) == loa.PASSWORD


# --- require_level ------------------------------------------------------------------------


calls: list[HttpRequest] = []


@loa.require_level(loa.TWO_FACTOR)
def sensitive(request: HttpRequest, case_id: int) -> HttpResponse:
    calls.append(request)
    return HttpResponse(f"case {case_id}")


@pytest.fixture(autouse=True)
def _no_calls() -> None:
    calls.clear()


def test_require_level_sends_an_anonymous_visitor_to_log_in(db: None) -> None:
    response = sensitive(_request(AnonymousUser()), case_id=7)

    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert target.path == "/login/"
    assert parse_qs(target.query) == {"next": ["/cases/7/?tab=docs"]}
    assert calls == []


def test_require_level_asks_a_level_1_user_to_step_up(citizen: User) -> None:
    response = sensitive(_request(citizen, loa.PASSWORD), case_id=7)

    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert target.path == "/login/step-up/"
    assert parse_qs(target.query) == {"next": ["/cases/7/?tab=docs"], "level": ["2"]}
    assert calls == []


@pytest.mark.parametrize("level", [loa.TWO_FACTOR, loa.HIGH])
def test_require_level_lets_a_strong_enough_session_through(citizen: User, level: int) -> None:
    request = _request(citizen, level)

    response = sensitive(request, case_id=7)

    assert response.status_code == 200
    assert response.content == b"case 7"
    assert calls == [request]
    assert sensitive.__name__ == "sensitive"  # wraps keeps the view's identity


def test_require_level_3_refuses_a_two_factor_session(citizen: User) -> None:
    @loa.require_level(loa.HIGH)
    def decision(request: HttpRequest) -> HttpResponse:
        return HttpResponse("signed")

    response = decision(_request(citizen, loa.TWO_FACTOR, path="/sign/"))

    assert response.status_code == 302
    assert parse_qs(urlsplit(response["Location"]).query) == {"next": ["/sign/"], "level": ["3"]}


# --- The step-up page ---------------------------------------------------------------------


@pytest.fixture
def logged_in(citizen: User) -> Client:
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = browser.post("/login/", {"username": citizen.email, "password": PASSWORD})
    assert response.status_code == 302
    return browser


def test_step_up_to_level_3_says_the_national_eid_is_needed(
    logged_in: Client, settings: Any
) -> None:
    settings.SALTER_OIDC = {
        **settings.SALTER_OIDC,
        "issuer": "https://eid.example.gov.rs",
        "label": "ConsentID",
    }

    response = logged_in.get("/login/step-up/", {"level": "3", "next": "/account/"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "This needs the national eID" in page
    assert "highest level of assurance" in page
    assert 'href="/login/oidc/?level=3&amp;next=/account/"' in page
    assert "Continue with ConsentID" in page


def test_step_up_to_level_3_without_an_eid_provider_says_so(logged_in: Client) -> None:
    response = logged_in.get("/login/step-up/", {"level": "3"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "This needs the national eID" in page
    assert "National eID login is not configured" in page
    assert "/login/oidc/" not in page


def test_step_up_to_level_2_without_a_second_factor_sends_to_set_one_up(
    logged_in: Client,
) -> None:
    response = logged_in.get("/login/step-up/", {"level": "2", "next": "/account/"})

    assert response.status_code == 302
    assert response["Location"] == "/account/security/?next=/account/"


def test_step_up_needs_a_login_first(client: Client, db: None) -> None:
    response = client.get("/login/step-up/", {"level": "3", "next": "/account/"})

    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == "/login/"


def test_a_malformed_level_is_not_a_server_error(logged_in: Client) -> None:
    response = logged_in.get("/login/step-up/", {"level": "high"})

    assert response.status_code in {200, 302, 400}
