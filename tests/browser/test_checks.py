"""The page checks themselves: they must catch what they are there to catch."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import check_page, goto

pytestmark = pytest.mark.browser


def test_axe_reports_a_violation(page: Page) -> None:
    goto(page, "/")
    page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=x>')")
    with pytest.raises(AssertionError, match=r"image-alt.*\n.*img"):
        check_page(page)


def test_sideways_scrolling_is_reported(page: Page) -> None:
    goto(page, "/")
    page.evaluate(
        "document.querySelector('main').insertAdjacentHTML('beforeend',"
        " '<p class=wide>' + 'x'.repeat(400) + '</p>')"
    )
    with pytest.raises(AssertionError, match="scrolls sideways"):
        check_page(page)
