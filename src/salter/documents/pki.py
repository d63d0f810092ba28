"""The development PKI: a root CA, an issuing CA, a timestamp authority, authority seals and
officials' signing certificates, with revocation lists the platform serves itself.

Everything is made with ``cryptography`` (EC P-256 keys: fast to make, accepted by pyHanko,
poppler and Adobe) into ``settings.SALTER_PKI_DIR``::

    root.crt, root.key                 self-signed root CA (20 years)
    intermediate.crt, intermediate.key issuing CA for everything below (10 years)
    tsa.crt, tsa.key                   RFC 3161 timestamp authority (EKU timeStamping, critical)
    seals/<authority>.crt|.key         e-seal of an authority (organisation certificate)
    signers/<user id>.crt|.key         personal signing certificate of an official
    issued/<serial, hex>.crt           every certificate ever issued (for revocation, audits)
    crl/root.crl, crl/intermediate.crl the CRLs (DER), served at /pki/crl/<ca>.crl
    revoked.json                       what each CA has revoked, and when

Keys are PKCS#8 PEM encrypted with ``settings.SALTER_PKI_PASSPHRASE``. This PKI is for
development and tests only: production signs with PKCS#12 files or a PKCS#11 token issued by a
real (qualified) provider — see ``salter.documents.signing`` and docs/signatures.md.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings

# Object identifiers under 2.25 (UUID-derived, ITU-T X.667): usable without registering an arc.
DEV_CERTIFICATE_POLICY = "2.25.203841557417377227066838617064468352701"
DEV_TSA_POLICY = "2.25.94471806590917402203786101416081232093"

# ETSI EN 319 412-5 QcStatements → QcType: tells an e-seal from a personal signature.
_QC_STATEMENTS_OID = x509.ObjectIdentifier("1.3.6.1.5.5.7.1.3")

CAS = ("root", "intermediate")
ROOT_NAME = "Šalter Development Root CA"
INTERMEDIATE_NAME = "Šalter Development Issuing CA"
TSA_NAME = "Šalter Development Timestamp Authority"
_ORG = "Šalter (development PKI, not for production)"


class PkiError(Exception):
    """The development PKI is missing or cannot do what was asked."""


@dataclass(frozen=True)
class Issued:
    """A certificate, its private key and the chain up to (and including) the root."""

    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    chain: tuple[x509.Certificate, ...]

    @property
    def serial(self) -> int:
        return self.certificate.serial_number


# --- Paths and small helpers ------------------------------------------------------------


def pki_dir() -> Path:
    return Path(settings.SALTER_PKI_DIR)


def exists(directory: Path | None = None) -> bool:
    base = directory or pki_dir()
    return all((base / f"{name}.crt").exists() for name in (*CAS, "tsa"))


def _passphrase() -> bytes:
    return str(settings.SALTER_PKI_PASSPHRASE).encode()


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _url(path: str) -> str:
    return str(settings.SALTER_PKI_BASE_URL).rstrip("/") + path


def crl_url(ca: str) -> str:
    return _url(f"/pki/crl/{ca}.crl")


def ca_cert_url(ca: str) -> str:
    return _url(f"/pki/ca/{ca}.crt")


@contextmanager
def _locked(base: Path) -> Iterator[None]:
    """One writer at a time (several gunicorn workers may create a seal at once)."""
    base.mkdir(parents=True, exist_ok=True)
    with open(base / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write(path: Path, data: bytes, *, secret: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if secret else 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _save(base: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> None:
    # every certificate ever issued stays in issued/<serial>.crt (a re-issue overwrites stem)
    _write(
        base / "issued" / f"{cert.serial_number:x}.crt",
        cert.public_bytes(serialization.Encoding.PEM),
    )
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(_passphrase()),
    )
    _write(base / f"{stem}.key", encrypted, secret=True)
    _write(base / f"{stem}.crt", cert.public_bytes(serialization.Encoding.PEM))


@functools.lru_cache(maxsize=256)
def _load_cert_cached(path: str, mtime_ns: int) -> x509.Certificate:
    return x509.load_pem_x509_certificate(Path(path).read_bytes())


@functools.lru_cache(maxsize=256)
def _load_key_cached(path: str, mtime_ns: int, passphrase: bytes) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=passphrase)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise PkiError(f"{path}: not an EC key")
    return key


def _load_cert(path: Path) -> x509.Certificate:
    try:
        return _load_cert_cached(str(path), path.stat().st_mtime_ns)
    except FileNotFoundError as exc:
        raise PkiError(f"{path} is missing: run `salter pki init`") from exc


def _load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    try:
        return _load_key_cached(str(path), path.stat().st_mtime_ns, _passphrase())
    except FileNotFoundError as exc:
        raise PkiError(f"{path} is missing: run `salter pki init`") from exc
    except ValueError as exc:  # wrong passphrase
        raise PkiError(f"{path}: cannot decrypt the key (SALTER_PKI_PASSPHRASE?)") from exc


def _load(base: Path, stem: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    return _load_cert(base / f"{stem}.crt"), _load_key(base / f"{stem}.key")


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(*attributes: tuple[x509.ObjectIdentifier, str]) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in attributes])


def qc_type_extension(kind: str) -> x509.UnrecognizedExtension:
    """QcStatements with only a QcType (``esign`` or ``eseal``); no QcCompliance: the dev
    certificates do not claim to be qualified."""
    from pyhanko.sign.ades import qualified_asn1

    statements = qualified_asn1.QcStatements(
        [
            {
                "statement_id": "qc_type",
                "statement_info": qualified_asn1.QcCertificateType([f"qct_{kind}"]),
            }
        ]
    )
    return x509.UnrecognizedExtension(_QC_STATEMENTS_OID, statements.dump())


# --- Issuing ------------------------------------------------------------------------------


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    years: int,
) -> x509.CertificateBuilder:
    start = _now() - timedelta(minutes=5)  # tolerate a little clock skew between machines
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=365 * years))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def _key_usage(*, sign: bool = False, ca: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=sign,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _issued_by(
    builder: x509.CertificateBuilder,
    issuer_cert: x509.Certificate,
    issuer_key: ec.EllipticCurvePrivateKey,
    issuer_ca: str,
) -> x509.Certificate:
    """Add the pointers to the issuer (key id, CRL, CA certificate) and sign."""
    issuer_ski = issuer_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    builder = (
        builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski.value),
            critical=False,
        )
        .add_extension(
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        full_name=[x509.UniformResourceIdentifier(crl_url(issuer_ca))],
                        relative_name=None,
                        reasons=None,
                        crl_issuer=None,
                    )
                ]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(
                        x509.oid.AuthorityInformationAccessOID.CA_ISSUERS,
                        x509.UniformResourceIdentifier(ca_cert_url(issuer_ca)),
                    )
                ]
            ),
            critical=False,
        )
    )
    return builder.sign(issuer_key, hashes.SHA256())


def _policies(policy: str) -> x509.CertificatePolicies:
    return x509.CertificatePolicies([x509.PolicyInformation(x509.ObjectIdentifier(policy), None)])


def init(directory: Path | None = None, *, force: bool = False) -> bool:
    """Create the root CA, the issuing CA, the TSA and empty CRLs.

    Keeps an existing PKI unless ``force`` (then everything, seals and signers included, is
    made anew). Returns whether anything was created."""
    base = directory or pki_dir()
    with _locked(base):
        if exists(base) and not force:
            return False
        for sub in ("seals", "signers", "crl", "issued"):
            shutil.rmtree(base / sub, ignore_errors=True)
        (base / "revoked.json").unlink(missing_ok=True)

        root_key = _new_key()
        root_name = _name((NameOID.COMMON_NAME, ROOT_NAME), (NameOID.ORGANIZATION_NAME, _ORG))
        root = (
            _builder(root_name, root_name, root_key.public_key(), 20)
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .add_extension(_key_usage(ca=True), critical=True)
            .sign(root_key, hashes.SHA256())
        )
        _save(base, "root", root, root_key)

        inter_key = _new_key()
        inter_name = _name(
            (NameOID.COMMON_NAME, INTERMEDIATE_NAME), (NameOID.ORGANIZATION_NAME, _ORG)
        )
        inter_builder = (
            _builder(inter_name, root_name, inter_key.public_key(), 10)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(ca=True), critical=True)
        )
        inter = _issued_by(inter_builder, root, root_key, "root")
        _save(base, "intermediate", inter, inter_key)

        tsa_key = _new_key()
        tsa_builder = (
            _builder(
                _name((NameOID.COMMON_NAME, TSA_NAME), (NameOID.ORGANIZATION_NAME, _ORG)),
                inter_name,
                tsa_key.public_key(),
                5,
            )
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(sign=True), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
            )
            .add_extension(_policies(DEV_TSA_POLICY), critical=False)
        )
        _save(base, "tsa", _issued_by(tsa_builder, inter, inter_key, "intermediate"), tsa_key)

        for ca in CAS:
            _issue_crl(base, ca)
        return True


def _issue_end_entity(
    base: Path,
    stem: str,
    subject: x509.Name,
    *,
    kind: str,
    email: str = "",
) -> Issued:
    inter, inter_key = _load(base, "intermediate")
    key = _new_key()
    builder = (
        _builder(subject, inter.subject, key.public_key(), 3 if kind == "eseal" else 2)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(sign=True), critical=True)
        .add_extension(_policies(DEV_CERTIFICATE_POLICY), critical=False)
        .add_extension(qc_type_extension(kind), critical=False)
    )
    if email:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False
        )
    cert = _issued_by(builder, inter, inter_key, "intermediate")
    _save(base, stem, cert, key)
    return Issued(cert, key, (inter, _load_cert(base / "root.crt")))


def _existing(base: Path, stem: str, subject: x509.Name) -> Issued | None:
    """The certificate on disk if it still names ``subject`` and is neither expired nor
    revoked; otherwise ``None`` (a new one is issued)."""
    if not (base / f"{stem}.crt").exists():
        return None
    cert, key = _load(base, stem)
    if cert.subject != subject or cert.not_valid_after_utc <= _now():
        return None
    if is_revoked(cert.serial_number, base):
        return None
    return Issued(cert, key, (_load_cert(base / "intermediate.crt"), _load_cert(base / "root.crt")))


def seal_for(authority_code: str, name: str, *, directory: Path | None = None) -> Issued:
    """The e-seal certificate of an authority, created on first use (development PKI)."""
    base = directory or pki_dir()
    code = _safe(authority_code)
    subject = _name(
        (NameOID.COUNTRY_NAME, "RS"),
        (NameOID.ORGANIZATION_NAME, name),
        (NameOID.ORGANIZATION_IDENTIFIER, f"SALTER-{code}"),
        (NameOID.COMMON_NAME, name),
    )
    stem = f"seals/{code}"
    found = _existing(base, stem, subject)
    if found:
        return found
    with _locked(base):
        return _existing(base, stem, subject) or _issue_end_entity(
            base, stem, subject, kind="eseal"
        )


def signer_for(
    user_id: int, full_name: str, email: str, *, directory: Path | None = None
) -> Issued:
    """The personal signing certificate of an official, created on first use."""
    base = directory or pki_dir()
    given, _sep, surname = full_name.strip().partition(" ")
    attributes: list[tuple[x509.ObjectIdentifier, str]] = [(NameOID.COUNTRY_NAME, "RS")]
    if surname:
        attributes += [(NameOID.GIVEN_NAME, given), (NameOID.SURNAME, surname)]
    attributes += [
        (NameOID.SERIAL_NUMBER, f"SALTER-USER-{int(user_id)}"),
        (NameOID.COMMON_NAME, full_name.strip() or email),
    ]
    subject = _name(*attributes)
    stem = f"signers/{int(user_id)}"
    found = _existing(base, stem, subject)
    if found:
        return found
    with _locked(base):
        return _existing(base, stem, subject) or _issue_end_entity(
            base, stem, subject, kind="esign", email=email
        )


def _safe(code: str) -> str:
    cleaned = "".join(ch for ch in code if ch.isalnum() or ch in "-_")
    if not cleaned:
        raise PkiError(f"unusable authority code {code!r}")
    return cleaned


def tsa(directory: Path | None = None) -> Issued:
    base = directory or pki_dir()
    cert, key = _load(base, "tsa")
    return Issued(cert, key, (_load_cert(base / "intermediate.crt"), _load_cert(base / "root.crt")))


def root_certificate(directory: Path | None = None) -> x509.Certificate:
    return _load_cert((directory or pki_dir()) / "root.crt")


def ca_certificate(ca: str, directory: Path | None = None) -> x509.Certificate:
    if ca not in CAS:
        raise PkiError(f"no CA called {ca!r}")
    return _load_cert((directory or pki_dir()) / f"{ca}.crt")


# --- Revocation ---------------------------------------------------------------------------

# A CRL is re-issued when it is older than this, so a served or embedded CRL is always fresh.
CRL_REFRESH = timedelta(hours=1)
CRL_VALIDITY = timedelta(days=7)


def _revoked(base: Path) -> dict[str, list[dict[str, Any]]]:
    path = base / "revoked.json"
    if not path.exists():
        return {ca: [] for ca in CAS}
    data: dict[str, list[dict[str, Any]]] = json.loads(path.read_text())
    return data


def is_revoked(serial: int, directory: Path | None = None) -> bool:
    revoked = _revoked(directory or pki_dir())
    return any(entry["serial"] == serial for entries in revoked.values() for entry in entries)


def _issuer_of(base: Path, serial: int) -> str:
    """Which CA issued the certificate with this serial (the root issued only the
    intermediate; the intermediate issued everything else)."""
    if ca_certificate("intermediate", base).serial_number == serial:
        return "root"
    if ca_certificate("root", base).serial_number == serial:
        raise PkiError("the root CA cannot be revoked; make a new PKI instead")
    if not (base / "issued" / f"{serial:x}.crt").exists():
        raise PkiError(f"this PKI issued no certificate with serial {serial:#x}")
    return "intermediate"


def revoke(
    serial: int,
    *,
    reason: x509.ReasonFlags = x509.ReasonFlags.unspecified,
    when: datetime | None = None,
    directory: Path | None = None,
) -> None:
    """Put the certificate with ``serial`` on its CA's CRL (re-issued at once)."""
    base = directory or pki_dir()
    with _locked(base):
        ca = _issuer_of(base, serial)
        revoked = _revoked(base)
        if not any(entry["serial"] == serial for entry in revoked[ca]):
            moment = (when or _now()).astimezone(UTC)
            revoked[ca].append({"serial": serial, "at": moment.isoformat(), "reason": reason.value})
            _write(base / "revoked.json", json.dumps(revoked, indent=1).encode())
        _issue_crl(base, ca)


def _issue_crl(base: Path, ca: str) -> bytes:
    cert, key = _load(base, ca)
    now = _now()
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(cert.subject)
        .last_update(now - timedelta(minutes=1))
        .next_update(now + CRL_VALIDITY)
        .add_extension(x509.CRLNumber(int(now.timestamp() * 1000)), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
                cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
            ),
            critical=False,
        )
    )
    for entry in _revoked(base).get(ca, []):
        revoked = (
            x509.RevokedCertificateBuilder()
            .serial_number(entry["serial"])
            .revocation_date(datetime.fromisoformat(entry["at"]))
        )
        if entry["reason"] != x509.ReasonFlags.unspecified.value:
            revoked = revoked.add_extension(
                x509.CRLReason(x509.ReasonFlags(entry["reason"])), critical=False
            )
        builder = builder.add_revoked_certificate(revoked.build())
    der = builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
    _write(base / "crl" / f"{ca}.crl", der)
    return der


def crl(ca: str, directory: Path | None = None) -> bytes:
    """The current CRL of ``ca`` (DER), re-issued when older than :data:`CRL_REFRESH`."""
    if ca not in CAS:
        raise PkiError(f"no CA called {ca!r}")
    base = directory or pki_dir()
    path = base / "crl" / f"{ca}.crl"
    if path.exists():
        data = path.read_bytes()
        issued = x509.load_der_x509_crl(data).last_update_utc
        if _now() - issued < CRL_REFRESH:
            return data
    with _locked(base):
        return _issue_crl(base, ca)


# --- For pyHanko (asn1crypto objects) -----------------------------------------------------


def to_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def key_to_asn1(key: ec.EllipticCurvePrivateKey) -> Any:
    from asn1crypto import keys

    return keys.PrivateKeyInfo.load(
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
