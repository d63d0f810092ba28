"""Playwright (sync API) driving Debian's Chromium against pytest-django's live server.

One browser for the session, a fresh context (cookies, storage) for every test. Every page a
test visits goes through :func:`check_page`: no script error or Content-Security-Policy refusal,
axe-core's WCAG 2.2 AA rules on the desktop and the phone layout, and no sideways scrolling at
360 px.
"""

from __future__ import annotations

import base64
import os
import re
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from conftest import PASSWORD, Mailbox, missing_tool
from django.db import connections
from django_otp.oath import TOTP
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    ViewportSize,
    sync_playwright,
)

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 360, "height": 740}
TIMEOUT_MS = 10_000
T = TypeVar("T")

__all__ = [
    "PASSWORD",
    "check_page",
    "email_link",
    "goto",
    "login",
    "logout",
    "off_the_loop",
    "send_notifications",
    "submit",
    "totp_key",
    "totp_now",
    "wrong_code",
]

# Script errors and Content-Security-Policy refusals seen by each page.
_problems: weakref.WeakKeyDictionary[Page, list[str]] = weakref.WeakKeyDictionary()


@pytest.fixture(scope="session")
def playwright_driver(django_db_setup: None) -> Iterator[Playwright]:
    """Playwright's sync API keeps an asyncio loop running in this thread, so Django would refuse
    every ORM call the test makes (fixtures, assertions) as "async unsafe". The calls really are
    synchronous; allow them while Playwright runs. Depending on ``django_db_setup`` creates the
    test database before Playwright starts and destroys it after Playwright stops."""
    if not Path(CHROMIUM).exists():
        missing_tool(f"{CHROMIUM} is missing (apt-get install chromium)")
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run npm ci")
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    driver = sync_playwright().start()
    try:
        yield driver
    finally:
        driver.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    browser = playwright_driver.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture
def context(browser: Browser, live_server: Any, mailbox: Mailbox) -> Iterator[BrowserContext]:
    """A fresh browser profile. Accept-Language is Serbian, so pages come in the default
    language (sr, Cyrillic) unless a test switches. axe-core is injected as an init script:
    DevTools evaluates it outside the page's Content-Security-Policy, which stays enforced.
    ``mailbox`` points the live server's e-mail at the test SMTP server."""
    context = _new_context(browser, live_server.url)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    page = _watched(context.new_page())
    yield page
    page.close()


@pytest.fixture
def new_page(browser: Browser, live_server: Any, mailbox: Mailbox) -> Iterator[Callable[[], Page]]:
    """Another person at another computer, for tests where several people act on one case:
    each call opens a page in a fresh browser profile (set up like ``context``, watched like
    ``page``), all closed at the end of the test."""
    contexts: list[BrowserContext] = []

    def open_page() -> Page:
        contexts.append(_new_context(browser, live_server.url))
        return _watched(contexts[-1].new_page())

    yield open_page
    for context in contexts:
        context.close()


def _new_context(browser: Browser, base_url: str) -> BrowserContext:
    context = browser.new_context(base_url=base_url, locale="sr-RS", viewport=DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(path=str(AXE))
    return context


def _watched(page: Page) -> Page:
    """Record the page's script errors and CSP refusals for :func:`check_page`."""
    problems = _problems.setdefault(page, [])

    def on_console(message: Any) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            problems.append(f"console error: {message.text}")

    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on("console", on_console)
    return page


# --- Checks ------------------------------------------------------------------------------------


def _format_violations(where: str, violations: list[dict[str, Any]]) -> str:
    lines = [f"axe-core found {len(violations)} WCAG 2.2 AA violation(s) on {where}:"]
    for violation in violations:
        lines.append(
            f"  [{violation['impact']}] {violation['id']}: {violation['help']}"
            f" ({violation['helpUrl']})"
        )
        for node in violation["nodes"][:10]:
            target = " ".join(str(t) for t in node["target"])
            summary = " ".join((node.get("failureSummary") or "").split())
            lines.append(f"      {target}  — {summary}")
    return "\n".join(lines)


def _axe_violations(page: Page) -> list[dict[str, Any]]:
    return list(
        page.evaluate(
            """tags => axe.run(document, {runOnly: {type: 'tag', values: tags},
                                          resultTypes: ['violations']})
              .then(result => result.violations.map(v => ({
                  id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                  nodes: v.nodes.map(n => ({target: n.target, failureSummary: n.failureSummary})),
              })))""",
            AXE_TAGS,
        )
    )


def check_page(page: Page) -> None:
    """No script error or CSP refusal; axe-core (WCAG 2.2 AA) finds nothing on the desktop
    layout nor on a 360 px phone, where the page must not scroll sideways either."""
    page.wait_for_load_state("load")
    problems = _problems.get(page, [])
    assert not problems, f"{page.url}: " + "; ".join(problems)
    violations = _axe_violations(page)
    assert not violations, _format_violations(f"{page.url} (desktop)", violations)

    phone = PHONE["width"]
    viewport = page.viewport_size or DESKTOP
    page.set_viewport_size(PHONE)
    try:
        widths = page.evaluate(
            """() => ({doc: document.documentElement.scrollWidth,
                       wide: [...document.querySelectorAll('body *')]
                         .filter(e => e.getBoundingClientRect().right > innerWidth + 0.5)
                         .slice(0, 5).map(e => e.outerHTML.slice(0, 120))})"""
        )
        assert widths["doc"] <= phone, (
            f"{page.url} scrolls sideways at {phone} px: scrollWidth is {widths['doc']}."
            f" Too wide: {widths['wide']}"
        )
        violations = _axe_violations(page)
        assert not violations, _format_violations(f"{page.url} ({phone} px)", violations)
    finally:
        page.set_viewport_size(viewport)


def goto(page: Page, path: str, *, status: int = 200) -> None:
    """Open ``path``, expect ``status`` and check the page."""
    response = page.goto(path)
    assert response is not None
    assert response.status == status, f"{path}: HTTP {response.status}, expected {status}"
    check_page(page)


# --- Steps -------------------------------------------------------------------------------------


def submit(page: Page, button: str = "main form button[type=submit]") -> int:
    """Click a submit button, wait for the next page and return its HTTP status."""
    with page.expect_navigation() as navigation:
        page.click(button)
    response = navigation.value
    assert response is not None
    return response.status


def login(page: Page, email: str, password: str = PASSWORD, *, next_path: str = "") -> int:
    """Fill in and submit the login form; the caller checks where it leads."""
    page.goto(f"/login/?next={next_path}" if next_path else "/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    return submit(page)


def logout(page: Page) -> None:
    """The header's log-out button (a POST form)."""
    submit(page, "header form[action='/logout/'] button")


def email_link(mailbox: Mailbox, address: str, pattern: str) -> str:
    """The first link matching ``pattern`` in the latest e-mail to ``address``."""
    deadline = time.monotonic() + 5
    while not mailbox.to(address):
        assert time.monotonic() < deadline, f"no e-mail reached {address}"
        time.sleep(0.05)
    match = re.search(pattern, mailbox.body(mailbox.to(address)[-1]))
    assert match, f"the e-mail to {address} has no link like {pattern}"
    return match.group(0)


def off_the_loop(work: Callable[[], T]) -> T:
    """Run ``work`` (model code) in a thread of its own and return what it returns.

    This thread runs Playwright's event loop, and asyncio refuses to start another inside a
    running one — which pyHanko does to sign or seal (an act signed in a test's setup, the
    seal on a delivery's evidence). The other thread sees what the live server committed
    (these tests use a transactional database, not a test-wide transaction); with SQLite in
    memory it shares this thread's connection, as the live server does."""
    shared = {
        c.alias: c
        for c in connections.all()
        if c.vendor == "sqlite" and c.is_in_memory_db()  # type: ignore[attr-defined]
    }
    outcome: dict[str, Any] = {}

    def run() -> None:
        for alias, connection in shared.items():
            connections[alias] = connection
        try:
            outcome["value"] = work()
        except BaseException as exc:  # noqa: BLE001 — raised again in the test's thread
            outcome["error"] = exc
        finally:
            if not shared:
                connections.close_all()

    thread = threading.Thread(target=run, name="off-the-loop")
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive(), f"{work} did not finish in 60 s"
    if "error" in outcome:
        raise outcome["error"]
    value: T = outcome["value"]
    return value


def send_notifications() -> Counter[str]:
    """What ``salter notify_worker --once`` does: send every notification due to the test
    SMTP server (the ``mailbox`` fixture), then return what was done."""
    from salter.mailbox.worker import Worker

    return off_the_loop(lambda: Worker().run(once=True))


def totp_key(secret: str) -> bytes:
    """The key the security page shows: base32 in groups of four, without padding."""
    raw = re.sub(r"\s+", "", secret).upper()
    return base64.b32decode(raw + "=" * (-len(raw) % 8))


def totp_now(key: bytes, *, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows now, or ``steps_ahead`` 30-second steps later."""
    totp = TOTP(key)
    totp.time = time.time() + steps_ahead * totp.step
    return f"{totp.token():06d}"


def wrong_code(key: bytes) -> str:
    """A code that matches none of the steps django-otp would accept around now."""
    near = {totp_now(key, steps_ahead=step) for step in (-2, -1, 0, 1, 2)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in near)
