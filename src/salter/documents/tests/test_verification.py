"""Verification in words a citizen understands: intact, changed, not trusted, revoked."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.utils import translation

from salter.documents import pki, signing
from salter.documents.tests.signing_helpers import (
    dev_pki,
    official,
    sign_and_seal,
    sign_unchecked,
    small_pdf,
)
from salter.documents.verification import Code, verify_pdf


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with dev_pki(tmp_path_factory.mktemp("pki")) as directory:
        yield directory


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Messages are compared in English (the default language is Serbian Cyrillic)."""
    with translation.override("en"):
        yield


@pytest.fixture(scope="module")
def signed(pki_dir: Path) -> bytes:
    return sign_and_seal(small_pdf(), long_term=True)


def test_a_signed_and_sealed_document_is_valid(signed: bytes) -> None:
    report = verify_pdf(signed)
    assert report.verdict == "valid", report
    assert report.messages[0] == "Every signature and seal on this document is valid."
    personal, sealed = report.signatures
    assert (personal.kind, personal.signer_name) == ("personal", "Petar Petrović")
    assert (sealed.kind, sealed.organisation) == ("seal", "Opštinska uprava Surdulica")
    for sig in report.signatures:
        assert sig.intact and sig.unchanged_since and sig.trusted and sig.valid_then
        assert sig.timestamp_valid and sig.signed_at is not None
        assert abs(sig.signed_at - datetime.now(UTC)) < timedelta(minutes=5)
        assert sig.codes == (Code.VALID,) and sig.ades_indication == "PASSED/OK"
    assert personal.signed_at < sealed.signed_at  # type: ignore[operator]
    (stamp,) = report.document_timestamps  # B-LTA
    assert stamp.valid and stamp.authority == pki.TSA_NAME


def test_one_byte_changed_after_signing(signed: bytes) -> None:
    at = signed.index(b"/Producer") + 12  # inside the first revision, covered by both
    changed = bytearray(signed)
    changed[at] ^= 0x01
    report = verify_pdf(bytes(changed))
    assert report.verdict == "invalid"
    assert "The document was changed after it was signed." in report.messages
    assert all(not s.intact and s.codes == (Code.CHANGED,) for s in report.signatures)


def test_content_added_after_signing(pki_dir: Path) -> None:
    """An incremental update that changes a page, after the signature."""
    from io import BytesIO

    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    signed = signing.sign_pdf(small_pdf(), official(), reason="r", location="l", field_name="P")
    writer = IncrementalPdfFileWriter(BytesIO(signed))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    page["/Rotate"] = generic.NumberObject(90)
    writer.update_container(page)
    out = BytesIO()
    writer.write(out)
    report = verify_pdf(out.getvalue())
    assert report.verdict == "invalid"
    (sig,) = report.signatures
    assert sig.intact and not sig.unchanged_since
    assert sig.codes == (Code.CHANGED,)


def test_a_certificate_we_do_not_trust(pki_dir: Path, tmp_path: Path) -> None:
    """A second, separate PKI (same names, different keys) signs; our root does not know it."""
    with dev_pki(tmp_path):
        foreign = signing.sign_pdf(
            small_pdf(),
            official(5, "Marko Marković"),
            reason="r",
            location="l",
            field_name="Potpis",
        )
        assert verify_pdf(foreign).valid  # valid where that PKI is trusted
    report = verify_pdf(foreign)
    assert report.verdict != "valid"
    (sig,) = report.signatures
    assert sig.intact and not sig.trusted
    assert sig.codes == (Code.NOT_TRUSTED,)
    assert "Signed by a certificate we do not trust." in report.messages


def test_a_certificate_revoked_before_signing(pki_dir: Path) -> None:
    issued = pki.signer_for(77, "Jovan Jovanović", "jovan@surdulica.example")
    signer = signing.from_issued(issued, "personal")
    pki.revoke(issued.serial, when=datetime.now(UTC) - timedelta(minutes=1))
    report = verify_pdf(sign_unchecked(small_pdf(), signer))
    assert report.verdict == "invalid"
    (sig,) = report.signatures
    assert sig.intact and sig.trusted and not sig.valid_then
    assert sig.revoked_at is not None and sig.signed_at is not None
    assert sig.revoked_at < sig.signed_at
    assert sig.codes == (Code.REVOKED_BEFORE,)
    assert "The certificate was revoked before the signature was made." in report.messages


def test_a_certificate_revoked_after_signing_keeps_the_signature_valid(pki_dir: Path) -> None:
    issued = pki.signer_for(78, "Ana Anić", "ana@surdulica.example")
    signed = signing.sign_pdf(
        small_pdf(),
        signing.from_issued(issued, "personal"),
        reason="r",
        location="l",
        field_name="Potpis",
    )
    time.sleep(1.1)  # a CRL states revocation times to the second
    pki.revoke(issued.serial)
    assert pki.is_revoked(issued.serial)
    report = verify_pdf(signed)  # reads the current CRL, which lists the certificate
    assert report.verdict == "valid", report
    assert report.signatures[0].revoked_at is None


def test_not_a_pdf_and_an_unsigned_pdf(pki_dir: Path) -> None:
    assert verify_pdf(b"GIF89a").codes == (Code.UNREADABLE,)
    assert verify_pdf(small_pdf()).codes == (Code.NO_SIGNATURES,)
    assert verify_pdf(small_pdf()).verdict == "invalid"


def test_messages_are_translatable(signed: bytes) -> None:
    report = verify_pdf(signed)
    with translation.override("en"):
        english = report.messages
    assert english[0] == "Every signature and seal on this document is valid."
    with translation.override("sr"):
        serbian = report.messages
    assert serbian != english and all(serbian)
