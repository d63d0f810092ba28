"""Shared by the signature tests: a development PKI in a temporary directory, a small PDF,
and ways to make the signatures the platform itself refuses to make."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path

from django.test import override_settings
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter
from weasyprint import HTML

from salter.documents import pki, signing


@contextmanager
def dev_pki(directory: Path) -> Iterator[Path]:
    """A fresh development PKI in ``directory``, made the active one."""
    pki.init(directory)
    with override_settings(SALTER_PKI_DIR=directory, SALTER_TSA_URL=""):
        yield directory


def small_pdf(text: str = "Rešenje o pravu na jednokratnu pomoć") -> bytes:
    return HTML(string=f"<h1>{text}</h1><p>Opština Surdulica, 2026.</p>").write_pdf()


def official(user_id: int = 7, name: str = "Petar Petrović") -> signing.Signer:
    return signing.personal_signer(user_id, name, f"user{user_id}@surdulica.example")


def seal() -> signing.Signer:
    return signing.seal_signer("surdulica", "Opštinska uprava Surdulica")


def sign_and_seal(pdf: bytes, *, long_term: bool = False) -> bytes:
    signed = signing.sign_pdf(
        pdf, official(), reason="Odobreno", location="Surdulica", field_name="Potpis"
    )
    return signing.sign_pdf(
        signed,
        seal(),
        reason="Pečat organa",
        location="Surdulica",
        field_name="Pecat",
        long_term=long_term,
    )


def sign_unchecked(pdf: bytes, signer: signing.Signer) -> bytes:
    """PAdES B-T (signature + timestamp) without the certificate check ``sign_pdf`` makes:
    how a signature with a revoked certificate reaches us from elsewhere."""
    meta = signers.PdfSignatureMetadata(field_name="Potpis", subfilter=SigSeedSubFilter.PADES)
    output = BytesIO()
    signers.PdfSigner(meta, signer=signer.signer, timestamper=signing.LocalTimeStamper()).sign_pdf(
        IncrementalPdfFileWriter(BytesIO(pdf)), output=output
    )
    return output.getvalue()


def pdfsig(path: Path) -> str:
    """poppler's report (no network; certificates not checked: its NSS store is empty)."""
    result = subprocess.run(
        ["pdfsig", "-nocert", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    return result.stdout
