"""Signing and sealing: PAdES B-LT / B-LTA that pyHanko's AdES validation and poppler accept."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
from django.test import override_settings
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESPassed
from pyhanko.sign.validation import ades

from salter.documents import pki, signing, verification
from salter.documents.tests.signing_helpers import (
    dev_pki,
    official,
    pdfsig,
    seal,
    sign_and_seal,
    small_pdf,
)


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with dev_pki(tmp_path_factory.mktemp("pki")) as directory:
        yield directory


@pytest.fixture(scope="module")
def signed(pki_dir: Path) -> bytes:
    """Signed by an official, then sealed by the authority (B-LT, then B-LTA)."""
    return sign_and_seal(small_pdf(), long_term=True)


def _ades(pdf: bytes) -> list[tuple[str, object]]:
    """pyHanko's own AdES long-term validation against the development root, offline."""
    reader = PdfFileReader(BytesIO(pdf))
    spec = verification.validation_spec(reader.embedded_regular_signatures)

    async def run() -> list[tuple[str, object]]:
        return [
            (sig.field_name, (await ades.ades_lta_validation(sig, spec)).ades_subindic)
            for sig in reader.embedded_regular_signatures
        ]

    return asyncio.run(run())


def test_both_signatures_pass_ades_validation(signed: bytes) -> None:
    assert _ades(signed) == [("Potpis", AdESPassed.OK), ("Pecat", AdESPassed.OK)]


def test_signatures_are_pades_with_timestamp_and_validation_data(signed: bytes) -> None:
    reader = PdfFileReader(BytesIO(signed))
    personal, sealed = reader.embedded_regular_signatures
    for sig in (personal, sealed):
        assert sig.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
        unsigned = {a["type"].native for a in sig.signer_info["unsigned_attrs"]}
        assert "signature_time_stamp_token" in unsigned  # B-T
    assert personal.sig_object["/Reason"] == "Odobreno"
    assert sealed.sig_object["/Location"] == "Surdulica"
    dss = reader.root["/DSS"]  # the validation data (B-LT)
    assert len(dss["/Certs"]) >= 3 and len(dss["/CRLs"]) >= 1
    # B-LTA: a document timestamp after the seal
    assert len(reader.embedded_timestamp_signatures) == 1
    assert verification.kind_of(personal.signer_cert) == "personal"
    assert verification.kind_of(sealed.signer_cert) == "seal"


def test_b_lt_has_no_document_timestamp(pki_dir: Path) -> None:
    signed = signing.sign_pdf(
        small_pdf(), official(), reason="r", location="l", field_name="Potpis"
    )
    reader = PdfFileReader(BytesIO(signed))
    assert reader.embedded_timestamp_signatures == []
    assert "/DSS" in reader.root


def test_pdfsig_finds_each_signature_intact(signed: bytes, tmp_path: Path) -> None:
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed)
    report = pdfsig(path)
    blocks = report.split("Signature #")[1:]
    by_field = {b.split("Signature Field Name: ")[1].split("\n")[0]: b for b in blocks}
    assert "Signature Validation: Signature is Valid." in by_field["Potpis"]
    assert "Signature Validation: Signature is Valid." in by_field["Pecat"]
    assert "Petar Petrović" in by_field["Potpis"]
    assert "Opštinska uprava Surdulica" in by_field["Pecat"]


def test_pdfsig_reports_total_document_signed_for_the_last_signature(
    pki_dir: Path, tmp_path: Path
) -> None:
    """Validation data is added after a B-LT signature, so only a signature without
    anything after it covers the whole file; with pyHanko's B-B that is the case."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter

    out = BytesIO()
    meta = signers.PdfSignatureMetadata(field_name="Potpis", subfilter=SigSeedSubFilter.PADES)
    signers.PdfSigner(meta, signer=seal().signer, timestamper=signing.LocalTimeStamper()).sign_pdf(
        IncrementalPdfFileWriter(BytesIO(small_pdf())), output=out
    )
    path = tmp_path / "one.pdf"
    path.write_bytes(out.getvalue())
    report = pdfsig(path)
    assert "Total document signed" in report
    assert "Signature is Valid." in report


def test_signing_refuses_a_revoked_certificate(pki_dir: Path) -> None:
    issued = pki.signer_for(99, "Opozvani Službenik", "opozvan@example.rs")
    signer = signing.from_issued(issued, "personal")
    pki.revoke(issued.serial)
    with pytest.raises(signing.SigningRefused):
        signing.sign_pdf(small_pdf(), signer, reason="r", location="l", field_name="Potpis")


def test_signing_refuses_a_certificate_we_do_not_trust(pki_dir: Path, tmp_path: Path) -> None:
    with override_settings(SALTER_PKI_DIR=tmp_path):
        pki.init()
        stranger = official(5, "Nepoznati Potpisnik")
    with pytest.raises(signing.SigningRefused):
        signing.sign_pdf(small_pdf(), stranger, reason="r", location="l", field_name="Potpis")


def test_tsa_url_is_used_when_configured(pki_dir: Path) -> None:
    with override_settings(SALTER_TSA_URL="http://tsa.example/tsr"):
        stamper = signing.timestamper()
    assert not isinstance(stamper, signing.LocalTimeStamper)
    assert isinstance(signing.timestamper(), signing.LocalTimeStamper)


def test_pkcs12_signer_from_configuration(pki_dir: Path, tmp_path: Path) -> None:
    """Production: an authority's seal from <SALTER_SEAL_PKCS12_DIR>/<code>.p12."""
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

    issued = pki.seal_for("apr", "Agencija za privredne registre")
    (tmp_path / "apr.p12").write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"apr",
            issued.key,
            issued.certificate,
            list(issued.chain),
            BestAvailableEncryption(b"secret"),
        )
    )
    with override_settings(SALTER_SEAL_PKCS12_DIR=str(tmp_path), SALTER_PKCS12_PASSPHRASE="secret"):
        signer = signing.seal_signer("apr", "ignored")
        assert not signer.local_pki and signer.kind == "seal"
        sealed = signing.sign_pdf(small_pdf(), signer, reason="r", location="l", field_name="S")
        with pytest.raises(signing.SigningRefused):
            signing.seal_signer("unknown", "Nobody")
    assert verification.verify_pdf(sealed).valid


@pytest.mark.django_db(transaction=True)
def test_signing_with_the_tsa_over_http(pki_dir: Path, live_server: object) -> None:
    """SALTER_TSA_URL pointed at this platform's own /pki/tsa: RFC 3161 over real HTTP."""
    url = f"{live_server.url}/pki/tsa"  # type: ignore[attr-defined]
    with override_settings(SALTER_TSA_URL=url):
        signed = signing.sign_pdf(
            small_pdf(), official(), reason="r", location="l", field_name="Potpis"
        )
    report = verification.verify_pdf(signed)
    assert report.valid and report.signatures[0].timestamp_valid
