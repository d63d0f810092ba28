"""The development PKI: what `salter pki init` makes, seals and signers on demand, revocation,
and the public endpoints that serve CRLs, CA certificates and timestamps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from asn1crypto import tsp
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from pyhanko.sign.timestamps.common_utils import handle_tsp_response

from salter.documents import pki, signing
from salter.documents.tests.signing_helpers import dev_pki


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with dev_pki(tmp_path_factory.mktemp("pki")) as directory:
        yield directory


def test_init_makes_the_hierarchy_and_keeps_it(pki_dir: Path) -> None:
    root, inter, tsa = (
        x509.load_pem_x509_certificate((pki_dir / f"{n}.crt").read_bytes())
        for n in ("root", "intermediate", "tsa")
    )
    assert root.issuer == root.subject
    assert inter.issuer == root.subject
    assert tsa.issuer == inter.subject
    assert inter.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    eku = tsa.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical and list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
    assert pki.init(pki_dir) is False  # kept
    assert x509.load_pem_x509_certificate((pki_dir / "root.crt").read_bytes()) == root


def test_keys_are_encrypted_pkcs8(pki_dir: Path) -> None:
    pem = (pki_dir / "root.key").read_bytes()
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    with pytest.raises((TypeError, ValueError)):
        serialization.load_pem_private_key(pem, password=None)
    assert (pki_dir / "root.key").stat().st_mode & 0o077 == 0


def test_wrong_passphrase_is_a_clear_error(pki_dir: Path) -> None:
    with override_settings(SALTER_PKI_PASSPHRASE="not the passphrase"):
        with pytest.raises(pki.PkiError, match="SALTER_PKI_PASSPHRASE"):
            pki.seal_for("other", "Other authority")


def test_seal_and_signer_certificates(pki_dir: Path) -> None:
    seal = pki.seal_for("apr", "Agencija za privredne registre")
    person = pki.signer_for(42, "Jelena Jovanović", "jelena@apr.example")
    assert pki.seal_for("apr", "Agencija za privredne registre").serial == seal.serial  # reused
    assert seal.certificate.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)
    assert person.certificate.subject.get_attributes_for_oid(x509.NameOID.SURNAME)[0].value == (
        "Jovanović"
    )
    san = person.certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert san.value.get_values_for_type(x509.RFC822Name) == ["jelena@apr.example"]
    for issued in (seal, person):
        points = issued.certificate.extensions.get_extension_for_class(
            x509.CRLDistributionPoints
        ).value
        assert points[0].full_name[0].value.endswith("/pki/crl/intermediate.crl")
        issued.certificate.verify_directly_issued_by(issued.chain[0])
    # a renamed official gets a new certificate
    assert pki.signer_for(42, "Jelena Petrović", "jelena@apr.example").serial != person.serial


def test_revoke_puts_the_serial_on_the_crl_and_a_new_certificate_is_issued(
    pki_dir: Path,
) -> None:
    person = pki.signer_for(43, "Marko Marković", "marko@apr.example")
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    pki.revoke(person.serial, reason=x509.ReasonFlags.key_compromise, when=when)
    listed = x509.load_der_x509_crl(
        pki.crl("intermediate")
    ).get_revoked_certificate_by_serial_number(person.serial)
    assert listed is not None and listed.revocation_date_utc == when
    assert pki.is_revoked(person.serial)
    assert pki.signer_for(43, "Marko Marković", "marko@apr.example").serial != person.serial


def test_command_init_keeps_an_existing_pki(pki_dir: Path) -> None:
    out = StringIO()
    call_command("pki", "init", stdout=out)
    assert "kept" in out.getvalue()


def test_command_init_force_and_revoke(tmp_path: Path) -> None:
    with override_settings(SALTER_PKI_DIR=tmp_path):
        out = StringIO()
        call_command("pki", "init", stdout=out)
        assert "created" in out.getvalue()
        old_root = pki.root_certificate().serial_number
        person = pki.signer_for(1, "Ana Anić", "ana@example.rs")
        call_command("pki", "revoke", str(person.serial), stdout=out)
        assert pki.is_revoked(person.serial)
        with pytest.raises(CommandError, match="issued no certificate"):
            call_command("pki", "revoke", "12345", stdout=out)
        call_command("pki", "init", "--force", stdout=out)
        assert pki.root_certificate().serial_number != old_root
        assert not pki.is_revoked(person.serial)


def test_crl_and_ca_certificate_are_served(pki_dir: Path) -> None:
    client = Client()
    response = client.get("/pki/crl/intermediate.crl")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pkix-crl"
    x509.load_der_x509_crl(response.content)
    response = client.get("/pki/ca/root.crt")
    assert x509.load_der_x509_certificate(response.content) == pki.root_certificate()
    assert client.get("/pki/crl/nothing.crl").status_code == 404


def test_the_tsa_answers_rfc3161_over_http(pki_dir: Path) -> None:
    nonce, request = signing.LocalTimeStamper().request_cms(b"\x01" * 32, "sha256")
    response = Client().post(
        "/pki/tsa", data=request.dump(), content_type="application/timestamp-query"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/timestamp-reply"
    token = handle_tsp_response(tsp.TimeStampResp.load(response.content), nonce)
    info = token["content"]["encap_content_info"]["content"].parsed
    assert info["message_imprint"]["hashed_message"].native == b"\x01" * 32
    assert abs(info["gen_time"].native - datetime.now(UTC)) < timedelta(minutes=1)
    names = {c.chosen.subject.native["common_name"] for c in token["content"]["certificates"]}
    assert pki.TSA_NAME in names


def test_the_tsa_refuses_what_it_cannot_stamp(pki_dir: Path) -> None:
    client = Client()
    bad = client.post("/pki/tsa", data=b"not DER", content_type="application/timestamp-query")
    assert signing.TimestampRefusal.load(bad.content)["status"]["status"].native == "rejection"
    _nonce, request = signing.LocalTimeStamper().request_cms(b"\x01" * 20, "sha1")
    weak = client.post("/pki/tsa", data=request.dump(), content_type="application/timestamp-query")
    refusal = signing.TimestampRefusal.load(weak.content)["status"]
    assert refusal["status"].native == "rejection"
    assert refusal["fail_info"].native == {"bad_alg"}
    assert client.post("/pki/tsa", data=b"x", content_type="text/plain").status_code == 415
    assert client.get("/pki/tsa").status_code == 405
