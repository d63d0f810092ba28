"""Public verification in the browser, without logging in: type the code printed under the QR
code, check a copy through the file input, and the pages for a wrong code, a voided document
and a file that is not a PDF; every page passes axe at both widths."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from salter.authorities.models import Authority
from salter.core.context import Actor
from salter.documents import services
from salter.documents.tests.signing_helpers import dev_pki
from salter.documents.tests.verify_helpers import (
    PNG,
    SUBJECT,
    changed_byte,
    register_signed,
    signed_decision,
    spaced,
)
from tests.browser.conftest import check_page, goto, submit

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[bytes]:
    """Signed in another thread: Playwright's sync API keeps an asyncio loop running in this
    one, and pyHanko runs its own (``asyncio.run``). The live server verifies in its threads."""
    with dev_pki(tmp_path_factory.mktemp("pki")), ThreadPoolExecutor(1) as pool:
        yield pool.submit(signed_decision).result()


def test_a_citizen_types_the_code_then_checks_the_file(
    page: Page, authority: Authority, system: Actor, signed: bytes, tmp_path: Path
) -> None:
    document = register_signed(system, authority, signed)
    code = document.verification_code

    goto(page, "/verify/")
    page.fill("#verify-code", spaced(code))
    assert submit(page) == 200
    assert page.url.endswith(f"/verify/{code}/"), page.url
    main = page.locator("main")
    expect(main).to_contain_text(SUBJECT)
    expect(main).to_contain_text(document.registry_number)
    expect(main).to_contain_text(document.versions.get().sha256)
    expect(main).to_contain_text("Petar Petrović")
    expect(page.locator("main a[href$='/document.pdf']")).to_have_count(1)
    check_page(page)

    copy = tmp_path / "resenje.pdf"
    copy.write_bytes(signed)
    page.set_input_files("#verify-file", str(copy))
    assert submit(page, "main form:has(#verify-file) button[type=submit]") == 200
    # The comparison (identical) and the report (valid), each stated in words.
    expect(page.locator("main .verdict.valid")).to_have_count(2)
    expect(page.locator("main .verdict.invalid")).to_have_count(0)
    expect(page.locator("main section.signature")).to_have_count(2)
    expect(main).to_contain_text("resenje.pdf")
    check_page(page)

    changed = tmp_path / "izmenjeno.pdf"
    changed.write_bytes(changed_byte(signed))
    goto(page, "/verify/")
    page.fill("#verify-code", code)
    page.set_input_files("#verify-file", str(changed))
    assert submit(page) == 200
    expect(page.locator("main .verdict.valid")).to_have_count(0)
    expect(page.locator("main .verdict.invalid")).to_have_count(2)
    check_page(page)


def test_a_wrong_code_a_voided_document_and_a_file_that_is_not_a_pdf(
    page: Page, authority: Authority, system: Actor, signed: bytes, tmp_path: Path
) -> None:
    goto(page, "/verify/ZZZZ-ZZZZ-ZZZZ/", status=404)
    expect(page.locator("#verify-code")).to_have_value("ZZZZ-ZZZZ-ZZZZ")

    document = register_signed(system, authority, signed)
    services.void(Actor.system("command"), document, "Издато грешком, замењено новим.")
    goto(page, f"/verify/{document.verification_code}/")
    expect(page.locator("main [role=alert]").first).to_contain_text("Издато грешком")

    picture = tmp_path / "slika.png"
    picture.write_bytes(PNG)
    page.set_input_files("#verify-file", str(picture))
    assert submit(page, "main form:has(#verify-file) button[type=submit]") == 400
    expect(page.locator("main .error-summary a[href='#verify-file']")).to_have_count(1)
    expect(page.locator("#verify-file")).to_have_attribute("aria-invalid", "true")
    check_page(page)
