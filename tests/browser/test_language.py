"""The language form in the header: Serbian in Cyrillic (default), Serbian in Latin, English."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from salter.authorities.models import Authority
from tests.browser.conftest import check_page, goto, submit

pytestmark = pytest.mark.browser

# The title, the text and the text-bearing attributes of the page, leaving out the language
# <select> (each option names its language in that language's script), scripts and styles.
PAGE_TEXT = """() => {
  const body = document.body.cloneNode(true);
  body.querySelectorAll('select[name=language], script, style, template')
    .forEach(e => e.remove());
  const names = ['aria-label', 'title', 'alt', 'placeholder'];
  const attributes = [...body.querySelectorAll(names.map(n => `[${n}]`).join(','))]
    .flatMap(e => names.map(n => e.getAttribute(n) || ''));
  return [document.title, body.textContent, ...attributes].join('\\n');
}"""


def switch_language(page: Page, code: str) -> None:
    """Choose ``code`` in the header form; the same page comes back in that language."""
    path = urlsplit(page.url).path
    page.select_option("header select[name=language]", code)
    submit(page, "header form.lang button[type=submit]")
    assert urlsplit(page.url).path == path, f"switching to {code} left {path} for {page.url}"
    expect(page.locator("header select[name=language]")).to_have_value(code)


def html_lang(page: Page) -> str:
    return str(page.evaluate("document.documentElement.lang"))


def assert_latin(page: Page) -> None:
    text = str(page.evaluate(PAGE_TEXT))
    cyrillic = [line.strip() for line in text.splitlines() if any("Ѐ" <= c <= "ӿ" for c in line)]
    assert not cyrillic, f"{page.url} in sr-Latn still has Cyrillic: {cyrillic[:5]}"


def test_switch_between_cyrillic_latin_and_english(page: Page, authority: Authority) -> None:
    # Serbian in Cyrillic is the default.
    for path in ("/register/", "/login/", "/"):
        goto(page, path)
        assert html_lang(page) == "sr-Cyrl"
    expect(page.locator("header select[name=language]")).to_have_value("sr")
    expect(page.locator("main")).to_contain_text("Општина Сурдулица")

    switch_language(page, "sr-latn")
    assert html_lang(page) == "sr-Latn"
    expect(page.locator("main")).to_contain_text("Opština Surdulica")
    assert_latin(page)
    check_page(page)
    for path in ("/login/", "/register/"):  # the choice sticks
        goto(page, path)
        assert html_lang(page) == "sr-Latn"
        assert_latin(page)

    switch_language(page, "en")  # from /register/, which comes back in English
    assert html_lang(page) == "en"
    check_page(page)
    for path in ("/login/", "/"):
        goto(page, path)
        assert html_lang(page) == "en"
    expect(page.locator("main")).to_contain_text("Municipality of Surdulica")

    switch_language(page, "sr")
    assert html_lang(page) == "sr-Cyrl"
    expect(page.locator("main")).to_contain_text("Општина Сурдулица")
