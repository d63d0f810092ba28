"""The error pages and the public pages of the footer: on the site's layout, in the reader's
language, and a 500 that gives the request id and never what went wrong."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import include, path
from django.utils import translation

from salter import urls as site_urls
from salter.core.translit import to_latin

pytestmark = pytest.mark.django_db

SECRET = "connection string postgres://secret@db"


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError(SECRET)


def forbidden(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied(SECRET)


def malformed(request: HttpRequest) -> HttpResponse:
    raise SuspiciousOperation(SECRET)


# The site's routes and handlers, and views that fail (@pytest.mark.urls).
urlpatterns = [
    path("test/boom/", boom),
    path("test/forbidden/", forbidden),
    path("test/malformed/", malformed),
    path("api/v1/test/boom/", boom),
    path("", include(site_urls)),
]
handler400 = site_urls.handler400
handler403 = site_urls.handler403
handler404 = site_urls.handler404
handler500 = site_urls.handler500


def client(language: str = "sr") -> Client:
    c = Client(raise_request_exception=False)
    c.cookies["salter_language"] = language
    return c


def text(response: Any) -> str:
    return bytes(response.content).decode()


def assert_page(response: Any, status: int, html_lang: str, *words: str) -> str:
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    body = text(response)
    assert f'<html lang="{html_lang}">' in body
    assert 'name="viewport"' in body
    assert 'class="site-footer"' in body or status == 500
    for word in words:
        assert word in body, f"{word!r} not on the {status} page"
    assert "secret" not in body and "RuntimeError" not in body
    return body


def said(language: str, msgid: str) -> str:
    """``msgid`` as a page in ``language`` says it (sr-Latn: the Cyrillic, transliterated)."""
    with translation.override("sr" if language == "sr-latn" else language):
        words = translation.gettext(msgid)
    return to_latin(words) if language == "sr-latn" else words


@pytest.mark.parametrize(
    ("language", "html_lang"), [("sr", "sr-Cyrl"), ("sr-latn", "sr-Latn"), ("en", "en")]
)
def test_an_unknown_page_is_a_404_in_the_readers_language(language: str, html_lang: str) -> None:
    response = client(language).get("/no-such-page/")
    body = assert_page(response, 404, html_lang, said(language, "Page not found"), 'href="/"')
    assert said(language, "Help and contact") in body


@pytest.mark.urls(__name__)
def test_a_forbidden_page_is_a_403_on_the_sites_layout() -> None:
    assert_page(client("en").get("/test/forbidden/"), 403, "en", "You may not open this page")


@pytest.mark.urls(__name__)
def test_a_malformed_request_is_a_400_on_the_sites_layout() -> None:
    assert_page(client("en").get("/test/malformed/"), 400, "en", "could not be read")


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(("language", "html_lang"), [("sr", "sr-Cyrl"), ("en", "en")])
def test_a_server_error_is_a_500_with_the_request_id_and_no_exception_text(
    language: str, html_lang: str
) -> None:
    response = client(language).get("/test/boom/", headers={"X-Request-ID": "probe-12345678"})
    said_so = said(language, "Something went wrong on our side")
    assert_page(response, 500, html_lang, "probe-12345678", 'href="/"', said_so)
    assert response["X-Request-ID"] == "probe-12345678"


@pytest.mark.urls(__name__)
def test_a_server_error_page_that_cannot_render_falls_back_to_a_plain_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert site_urls.handler500 == "salter.core.views.server_error"

    def broken_render(*args: object, **kwargs: object) -> HttpResponse:
        raise RuntimeError("the database is down")

    monkeypatch.setattr("salter.core.views.render", broken_render)
    response = client("en").get("/test/boom/", headers={"X-Request-ID": "probe-87654321"})
    body = assert_page(response, 500, "en", "probe-87654321", "Something went wrong")
    assert "database is down" not in body


@pytest.mark.urls(__name__)
def test_the_api_still_answers_its_errors_in_json() -> None:
    response = client("en").get("/api/v1/test/boom/", headers={"X-Request-ID": "probe-12345678"})
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    assert json.loads(response.content)["error"]["details"] == {"request_id": "probe-12345678"}
    assert client("en").get("/api/v1/no-such/")["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("url", ["/help/", "/accessibility/", "/privacy/"])
@pytest.mark.parametrize(
    ("language", "html_lang"), [("sr", "sr-Cyrl"), ("sr-latn", "sr-Latn"), ("en", "en")]
)
def test_the_footer_pages_are_public_in_three_languages(
    url: str, language: str, html_lang: str
) -> None:
    body = assert_page(client(language).get(url), 200, html_lang, "pomoc@salter.localhost")
    for linked in ("/help/", "/accessibility/", "/privacy/"):
        assert f'href="{linked}"' in body


def test_the_accessibility_statement_names_its_target_and_the_privacy_notice_my_data() -> None:
    assert "WCAG" in text(client("en").get("/accessibility/"))
    assert "2.2" in text(client("en").get("/accessibility/"))
    assert 'href="/my/data/"' in text(client("en").get("/privacy/"))


def test_every_page_links_the_favicon_and_the_manifest() -> None:
    body = text(client("en").get("/"))
    assert 'rel="icon"' in body and 'rel="manifest" href="/manifest.webmanifest"' in body


@pytest.mark.parametrize(("language", "name"), [("en", "Šalter"), ("sr-latn", "Šalter")])
def test_the_manifest_describes_an_installable_app(language: str, name: str) -> None:
    response = client(language).get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["short_name"] == name
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
    assert manifest["theme_color"]
    assert {icon["type"] for icon in manifest["icons"]} == {"image/svg+xml", "image/png"}
    for icon in manifest["icons"]:  # each one a file the static storage has
        assert finders.find(icon["src"].removeprefix(settings.STATIC_URL)), icon["src"]
