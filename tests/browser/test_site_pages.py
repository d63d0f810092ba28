"""The pages every visitor may meet: the footer's help, accessibility statement and privacy
notice, and the error pages, in the three languages, on a 360 px phone (issue 14, phone first).

:func:`check_page` runs axe-core (WCAG 2.2 AA) on the desktop and the phone layout and fails
if the page scrolls sideways at 360 px."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import DESKTOP, PHONE, goto
from tests.browser.test_language import assert_latin

pytestmark = pytest.mark.browser

LANGUAGES = [("sr", "sr-Cyrl"), ("sr-latn", "sr-Latn"), ("en", "en")]
FOOTER_PAGES = ["/help/", "/accessibility/", "/privacy/"]


def in_language(context: BrowserContext, live_server: Any, language: str) -> None:
    """What the header's language form leaves behind: the language cookie."""
    context.add_cookies([{"name": "salter_language", "value": language, "url": live_server.url}])


def on_a_phone(page: Page, language: str, html_lang: str) -> None:
    """The page at 360 px: in its language, and its footer links whole and big enough to tap
    (WCAG 2.5.8: at least 24 px high), inside the screen."""
    assert page.evaluate("document.documentElement.lang") == html_lang, page.url
    if language == "sr-latn":
        assert_latin(page)
    page.set_viewport_size(PHONE)
    try:
        expect(page.locator("main h1")).to_be_visible()
        links = page.locator("footer.site-footer nav a")
        expect(links).to_have_count(5)
        for box in links.evaluate_all(
            "links => links.map(l => l.getBoundingClientRect().toJSON())"
        ):
            assert box["height"] >= 24 and box["left"] >= 0 and box["right"] <= PHONE["width"]
    finally:
        page.set_viewport_size(DESKTOP)


@pytest.mark.parametrize(("language", "html_lang"), LANGUAGES)
def test_footer_pages_and_a_404_read_on_a_phone(
    context: BrowserContext, page: Page, live_server: Any, language: str, html_lang: str
) -> None:
    in_language(context, live_server, language)
    for path in [*FOOTER_PAGES, "/no-such-page/"]:
        goto(page, path, status=404 if path == "/no-such-page/" else 200)  # axe at both widths
        on_a_phone(page, language, html_lang)
    # The 404 says what to do next: back to the front page, or help.
    expect(page.locator("main a[href='/']")).to_be_visible()
    expect(page.locator("main a[href='/help/']")).to_be_visible()


def test_the_icons_and_the_manifest_load(page: Page) -> None:
    goto(page, "/help/")
    for selector in ("link[rel=icon]", "link[rel=manifest]", "link[rel=apple-touch-icon]"):
        for href in page.locator(selector).evaluate_all("links => links.map(l => l.href)"):
            response = page.request.get(href)
            assert response.ok, f"{selector} {href}: HTTP {response.status}"
    manifest = page.request.get("/manifest.webmanifest").json()
    for icon in manifest["icons"]:
        assert page.request.get(icon["src"]).ok, icon["src"]


@pytest.mark.urls("salter.core.tests.test_error_pages")
@pytest.mark.parametrize(("language", "html_lang"), LANGUAGES)
def test_a_server_error_gives_the_request_id_on_a_phone(
    context: BrowserContext, page: Page, live_server: Any, language: str, html_lang: str
) -> None:
    in_language(context, live_server, language)
    goto(page, "/test/boom/", status=500)
    on_a_phone(page, language, html_lang)
    expect(page.locator("main .request-id")).to_have_count(1)
    expect(page.locator("body")).not_to_contain_text("secret")
