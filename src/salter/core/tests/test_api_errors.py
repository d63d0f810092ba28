"""Every error under /api/ and /registers/ is ``{"error": {"code", "message", "details"?}}``
JSON, including the ones Django gives before the API sees the request (docs/api.md, Errors)."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import HttpRequest
from django.test import Client
from django.urls import path
from ninja import Form, NinjaAPI

from salter.core import errors
from salter.core.context import Actor
from salter.identity import services
from salter.identity.models import User

pytestmark = pytest.mark.django_db

# A route of its own for what no route of the platform should depend on (@pytest.mark.urls).
probe = NinjaAPI(urls_namespace="test-errors", docs_url=None, openapi_url=None)
errors.install(probe)


@probe.post("/form")
def form(request: HttpRequest, text: Form[str]) -> dict[str, int]:
    return {"length": len(text)}


urlpatterns = [path("api/test/", probe.urls)]


def error_of(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert set(error) <= {"code", "message", "details"}
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    return error


def bearer(user: User, scopes: tuple[str, ...] = ("read", "write")) -> dict[str, str]:
    _token, secret = services.create_api_token(
        Actor(user=user, via="test"), name="ci", scopes=list(scopes), days=30, loa=2
    )
    return {"Authorization": f"Bearer {secret}"}


def test_a_wrong_method_is_405_with_allow() -> None:
    response = Client().post("/api/v1/cases/queue")

    error = error_of(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET"
    assert error["details"] == {"allowed": ["GET"]}
    assert "POST" in error["message"]


def test_the_allowed_methods_are_listed_in_a_stable_order(citizen: User) -> None:
    response = Client().put("/api/v1/cases", headers=bearer(citizen))

    error_of(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET, POST"


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v2/me", "/registers/a/b/c"])
def test_an_unknown_path_is_404_not_found(path: str) -> None:
    error_of(Client().get(path), 404, "not_found")


def test_pages_keep_their_html_errors() -> None:
    response = Client().get("/nope/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_body_over_the_limit_is_413_naming_the_limit(citizen: User, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"service": "' + "x" * 2000 + '"}'

    response = Client().post(
        "/api/v1/cases", body, content_type="application/json", headers=bearer(citizen)
    )

    error = error_of(response, 413, "request_too_large")
    assert "1 kB" in error["message"]
    assert error["details"] == {"size_bytes": len(body), "limit_bytes": 1000}


@pytest.mark.urls(__name__)
def test_a_form_field_over_the_limit_is_413_too(settings: Any) -> None:
    """Multipart bodies are parsed by Django inside the API (files do not count towards the
    limit, fields do): its RequestDataTooBig becomes the same 413."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = Client().post("/api/test/form", {"text": "x" * 2000})

    error = error_of(response, 413, "request_too_large")
    assert error["details"]["limit_bytes"] == 1000
    assert "1 kB" in error["message"]


def test_a_body_that_is_not_json_is_400_invalid_json(citizen: User) -> None:
    response = Client().post(
        "/api/v1/cases", "{not json", content_type="application/json", headers=bearer(citizen)
    )

    error_of(response, 400, "invalid_json")


def test_a_disallowed_host_is_400_bad_request(settings: Any) -> None:
    settings.ALLOWED_HOSTS = ["testserver"]

    response = Client(HTTP_HOST="evil.example").get("/api/v1/authorities")

    error_of(response, 400, "bad_request")


def test_a_server_error_is_500_with_the_request_id_and_no_exception_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken() -> None:
        raise RuntimeError("connection string postgres://secret@db")

    monkeypatch.setattr("salter.authorities.queries.active_authorities", broken)

    response = Client(raise_request_exception=False).get(
        "/api/v1/authorities", headers={"X-Request-ID": "probe-12345678"}
    )

    error = error_of(response, 500, "internal_error")
    assert error["details"] == {"request_id": "probe-12345678"}
    assert "probe-12345678" in error["message"]
    assert response["X-Request-ID"] == "probe-12345678"
    assert b"secret" not in response.content
    assert b"RuntimeError" not in response.content


def test_a_write_without_credentials_is_401_even_with_csrf_checks() -> None:
    browser = Client(enforce_csrf_checks=True)

    response = browser.post("/api/v1/cases", "{}", content_type="application/json")

    error_of(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_the_documented_message_is_in_the_readers_language() -> None:
    english = Client().get("/api/v1/nope", headers={"Accept-Language": "en"})

    assert error_of(english, 404, "not_found")["message"] == "There is nothing at this address."


@pytest.mark.parametrize(
    ("language", "message", "detail"),
    [
        (
            "en",
            "Some fields are not valid.",
            "A number in the link or the form is not a whole number in the range allowed.",
        ),
        (
            "sr",
            "Нека поља нису исправна.",
            "Број у вези или обрасцу није цео број у дозвољеном опсегу.",
        ),
    ],
)
def test_a_parameter_out_of_range_is_422_in_the_readers_language(
    citizen: User, language: str, message: str, detail: str
) -> None:
    response = Client().get(
        "/api/v1/access-log?authority=99999999999999999999",
        headers={**bearer(citizen), "Accept-Language": language},
    )

    error = error_of(response, 422, "validation_error")
    assert error["message"] == message
    assert error["details"] == [{"field": "query.authority", "message": detail}]
