"""PAdES signatures and e-seals with an RFC 3161 timestamp and embedded validation data.

``sign_pdf`` takes PDF bytes and returns them signed (incrementally: earlier signatures stay
intact). Levels (ETSI EN 319 142-1):

* **B-LT** (default) — signature + signature timestamp + the certificates and CRLs needed to
  validate it, in the document's DSS, so it can be checked offline later.
* **B-LTA** (``long_term=True``) — B-LT plus a document timestamp over everything, which keeps
  the validation data provable after the certificates expire (renew it before the TSA's
  certificate does).

Keys come from, in order: a PKCS#11 token (``SALTER_PKCS11_MODULE``), PKCS#12 files
(``SALTER_SEAL_PKCS12_DIR`` / ``SALTER_SIGNER_PKCS12_DIR``), or the development PKI
(:mod:`salter.documents.pki`). Timestamps come from ``SALTER_TSA_URL`` or, when it is unset,
from the development TSA in this process.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any, Literal

from asn1crypto import cms, core, tsp
from asn1crypto import x509 as asn1_x509
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.general import (
    SigningError,
    as_signing_certificate_v2,
    simple_cms_attribute,
)
from pyhanko.sign.timestamps import TimeStamper, TimestampRequestError
from pyhanko.sign.timestamps.requests_client import HTTPTimeStamper
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError
from pyhanko_certvalidator.registry import SimpleCertificateStore

from salter.documents import pki

Kind = Literal["seal", "personal"]

# Digests a timestamp request may use, with their lengths.
_DIGESTS = {"sha256": 32, "sha384": 48, "sha512": 64}


class SigningRefused(Exception):
    """The signature cannot be made (certificate revoked, expired or not trusted, TSA down)."""


@dataclass(frozen=True)
class Signer:
    """Who signs: pyHanko's signer (key and certificate chain) and what kind of signature it
    makes — an organisation's e-seal or a person's signature."""

    signer: signers.Signer
    kind: Kind
    # The validation data of the development PKI is local; anything else is fetched online.
    local_pki: bool = True

    @property
    def certificate(self) -> asn1_x509.Certificate:
        cert = self.signer.signing_cert
        assert cert is not None
        return cert


def from_issued(issued: pki.Issued, kind: Kind) -> Signer:
    """A :class:`Signer` for a certificate of the development PKI."""
    registry = SimpleCertificateStore.from_certs([pki.to_asn1(c) for c in issued.chain])
    signer = signers.SimpleSigner(
        signing_cert=pki.to_asn1(issued.certificate),
        signing_key=pki.key_to_asn1(issued.key),
        cert_registry=registry,
    )
    return Signer(signer=signer, kind=kind, local_pki=True)


def seal_signer(authority_code: str, name: str) -> Signer:
    """The e-seal of an authority, from the configured key source."""
    external = _configured_signer(
        f"seal-{authority_code}", settings.SALTER_SEAL_PKCS12_DIR, authority_code
    )
    if external is not None:
        return Signer(signer=external, kind="seal", local_pki=False)
    return from_issued(pki.seal_for(authority_code, name), "seal")


def personal_signer(user_id: int, full_name: str, email: str) -> Signer:
    """An official's personal signing key ("signature in the cloud": held by the platform;
    the caller must have checked a fresh second factor first)."""
    external = _configured_signer(
        f"signer-{user_id}", settings.SALTER_SIGNER_PKCS12_DIR, str(user_id)
    )
    if external is not None:
        return Signer(signer=external, kind="personal", local_pki=False)
    return from_issued(pki.signer_for(user_id, full_name, email), "personal")


def _configured_signer(key_label: str, p12_dir: str, stem: str) -> signers.Signer | None:
    if settings.SALTER_PKCS11_MODULE:
        return _pkcs11_signer(key_label)
    if p12_dir:
        path = Path(p12_dir) / f"{stem}.p12"
        if not path.exists():
            raise SigningRefused(f"no PKCS#12 file {path}")
        passphrase = settings.SALTER_PKCS12_PASSPHRASE.encode() or None
        loaded = signers.SimpleSigner.load_pkcs12(str(path), passphrase=passphrase)
        if loaded is None:
            raise SigningRefused(f"cannot open {path} (SALTER_PKCS12_PASSPHRASE?)")
        return loaded
    return None


def _pkcs11_signer(key_label: str) -> signers.Signer:
    """A signer whose key stays on a PKCS#11 token (an HSM); the certificate and key are found
    by label. Needs ``python-pkcs11``, not a dependency of Šalter: install it where a token is
    used. Not exercised by the tests (no token here)."""
    try:
        from pyhanko.sign import pkcs11
    except ImportError as exc:  # pragma: no cover - depends on the deployment
        raise ImproperlyConfigured("SALTER_PKCS11_MODULE needs python-pkcs11 installed") from exc
    return pkcs11.PKCS11Signer(  # pragma: no cover - no token in CI
        _pkcs11_session(), cert_label=key_label, key_label=key_label
    )


@functools.lru_cache(maxsize=1)
def _pkcs11_session() -> Any:  # pragma: no cover - no token in CI
    """One logged-in session per process, reused for every signature."""
    from pyhanko.config.pkcs11 import TokenCriteria
    from pyhanko.sign import pkcs11

    return pkcs11.open_pkcs11_session(
        settings.SALTER_PKCS11_MODULE,
        token_criteria=TokenCriteria(label=settings.SALTER_PKCS11_TOKEN or None),
        user_pin=settings.SALTER_PKCS11_PIN or None,
    )


# --- The timestamp authority --------------------------------------------------------------


def _tsa_signer(directory: str) -> signers.SimpleSigner:
    issued = pki.tsa(Path(directory))
    return signers.SimpleSigner(
        signing_cert=pki.to_asn1(issued.certificate),
        signing_key=pki.key_to_asn1(issued.key),
        cert_registry=SimpleCertificateStore.from_certs([pki.to_asn1(c) for c in issued.chain]),
    )


@functools.lru_cache(maxsize=4)
def _cached_tsa_signer(directory: str, mtime_ns: int) -> signers.SimpleSigner:
    return _tsa_signer(directory)


def _dev_tsa_signer() -> signers.SimpleSigner:
    base = pki.pki_dir()
    try:
        mtime = (base / "tsa.crt").stat().st_mtime_ns
    except FileNotFoundError as exc:
        raise pki.PkiError("the development TSA is missing: run `salter pki init`") from exc
    return _cached_tsa_signer(str(base), mtime)


class TimestampRefusal(core.Sequence):
    """A TimeStampResp without a token (asn1crypto's own class insists on one)."""

    _fields = [("status", tsp.PKIStatusInfo)]  # noqa: RUF012


def _refusal(fail_info: str, text: str) -> TimestampRefusal:
    return TimestampRefusal(
        {
            "status": tsp.PKIStatusInfo(
                {
                    "status": "rejection",
                    "status_string": [text],
                    "fail_info": tsp.PKIFailureInfo({fail_info}),
                }
            )
        }
    )


async def timestamp_response(request: tsp.TimeStampReq) -> tsp.TimeStampResp | TimestampRefusal:
    """Answer an RFC 3161 request with the development TSA's key."""
    imprint = request["message_imprint"]
    algorithm = imprint["hash_algorithm"]["algorithm"].native
    if _DIGESTS.get(algorithm) != len(imprint["hashed_message"].native):
        return _refusal("bad_alg", "unsupported or inconsistent hash algorithm")
    tst_fields: dict[str, Any] = {
        "version": "v1",
        "policy": DEV_TSA_POLICY_ID,
        "message_imprint": imprint,
        "serial_number": secrets.randbits(63),
        "gen_time": datetime.now(UTC),
        "accuracy": {"seconds": 1},
    }
    if request["nonce"].native is not None:
        tst_fields["nonce"] = request["nonce"]
    tst_info = tsp.TSTInfo(tst_fields)
    signer = _dev_tsa_signer()
    tst_der = tst_info.dump()
    signed_attrs = cms.CMSAttributes(
        [
            simple_cms_attribute("content_type", "tst_info"),
            simple_cms_attribute("message_digest", hashlib.sha256(tst_der).digest()),
            # ESSCertIDv2 with SHA-512 spelled out: with SHA-256, the DEFAULT, asn1crypto
            # re-encodes the token from scratch each time it is embedded (~0.5 s of CPU).
            simple_cms_attribute(
                "signing_certificate_v2",
                as_signing_certificate_v2(signer.signing_cert, hash_algo="sha512"),
            ),
        ]
    )
    token = await signer.async_sign_prescribed_attributes(
        "sha256",
        signed_attrs,
        cms_version="v3",
        encap_content_info=cms.EncapsulatedContentInfo(
            {"content_type": "tst_info", "content": core.ParsableOctetString(tst_der)}
        ),
    )
    return tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token})


DEV_TSA_POLICY_ID = core.ObjectIdentifier(pki.DEV_TSA_POLICY)


class LocalTimeStamper(TimeStamper):
    """pyHanko's timestamper interface, answered in this process by the development TSA."""

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        response = await timestamp_response(req)
        if isinstance(response, TimestampRefusal):
            raise TimestampRequestError(str(response["status"]["status_string"].native))
        return response


def timestamper() -> TimeStamper:
    """The configured TSA's client, one per process: pyHanko asks a new one for a sample
    token (to size the signature) and the TSA's certificates, which it then remembers."""
    if settings.SALTER_TSA_URL:
        return _http_timestamper(settings.SALTER_TSA_URL)
    try:
        mtime = (pki.pki_dir() / "tsa.crt").stat().st_mtime_ns
    except FileNotFoundError:
        mtime = 0
    return _local_timestamper(str(pki.pki_dir()), mtime)


@functools.lru_cache(maxsize=4)
def _http_timestamper(url: str) -> TimeStamper:
    return HTTPTimeStamper(url, timeout=10)


@functools.lru_cache(maxsize=4)
def _local_timestamper(directory: str, mtime_ns: int) -> TimeStamper:
    return LocalTimeStamper()


# --- Validation data ----------------------------------------------------------------------


def trust_roots() -> list[asn1_x509.Certificate]:
    """The roots signatures must chain to: the development root (outside production) and the
    files named in ``SALTER_TRUST_ROOTS``."""
    from pyhanko.keys import load_certs_from_pemder

    roots: list[asn1_x509.Certificate] = []
    production = getattr(settings, "SALTER_ENVIRONMENT", "") == "production"
    if settings.SALTER_TRUST_DEV_ROOT and not production and pki.exists():
        roots.append(pki.to_asn1(pki.root_certificate()))
    if settings.SALTER_TRUST_ROOTS:
        roots.extend(load_certs_from_pemder(settings.SALTER_TRUST_ROOTS))
    return roots


def local_validation_material() -> tuple[list[asn1_x509.Certificate], list[bytes]]:
    """The development PKI's CA certificates and current CRLs (none if there is no PKI)."""
    if not pki.exists():
        return [], []
    certs = [pki.to_asn1(pki.ca_certificate(ca)) for ca in pki.CAS]
    return certs, [pki.crl(ca) for ca in pki.CAS]


def validation_context(*, fetch: bool = False) -> ValidationContext:
    """Trust roots plus the local CRLs; online fetching only when ``fetch`` (certificates of
    an outside provider, whose CRLs and OCSP responders are on the network)."""
    certs, crls = local_validation_material()
    return ValidationContext(
        trust_roots=trust_roots(),
        other_certs=certs,
        crls=crls,
        allow_fetching=fetch,
        revocation_mode="hard-fail",
    )


# --- Signing ------------------------------------------------------------------------------


def sign_pdf(
    pdf: bytes,
    signer: Signer,
    *,
    reason: str,
    location: str,
    field_name: str,
    long_term: bool = False,
) -> bytes:
    """Sign ``pdf`` as PAdES B-LT (B-LTA when ``long_term``); return the signed bytes.

    Refuses (:class:`SigningRefused`) when the certificate does not validate now — revoked,
    expired, or not chaining to a trusted root — so no signature is made that would fail
    verification."""
    ts = timestamper()
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        reason=reason,
        location=location,
        md_algorithm="sha256",
        subfilter=SigSeedSubFilter.PADES,
        use_pades_lta=long_term,
        embed_validation_info=True,
        validation_context=validation_context(fetch=not signer.local_pki),
    )
    pdf_signer = signers.PdfSigner(meta, signer=signer.signer, timestamper=ts)
    # pyHanko sizes the signature by making a trial one first (a quarter of the work); the
    # development PKI's signatures are always about the same size, so reserve that instead.
    reserve = LOCAL_SIGNATURE_RESERVE if signer.local_pki else None
    try:
        try:
            return _sign(pdf, pdf_signer, reserve)
        except SigningError:
            if reserve is None:
                raise
            return _sign(pdf, pdf_signer, None)  # larger than expected: let pyHanko size it
    except (PathValidationError, PathBuildingError) as exc:
        raise SigningRefused(f"the certificate does not validate: {exc}") from exc
    except TimestampRequestError as exc:
        raise SigningRefused(f"the timestamp authority does not answer ({exc})") from exc
    except SigningError as exc:
        raise SigningRefused(str(exc)) from exc


# Hex digits kept for the signature container of a development-PKI signature: the CMS with
# three certificates and the timestamp token is about 5 KB (10,000 hex digits).
LOCAL_SIGNATURE_RESERVE = 14_000


def _sign(pdf: bytes, pdf_signer: signers.PdfSigner, reserve: int | None) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    output = BytesIO()
    pdf_signer.sign_pdf(writer, bytes_reserved=reserve, output=output)
    return output.getvalue()


def timestamp_request_from_der(data: bytes) -> tsp.TimeStampReq:
    request = tsp.TimeStampReq.load(data)
    request.native  # noqa: B018 - parse it all now, so a malformed request fails here
    return request


def answer_timestamp_request(data: bytes) -> bytes:
    """The HTTP TSA: DER request in, DER response out (a refusal for a malformed request)."""
    try:
        request = timestamp_request_from_der(data)
    except (ValueError, TypeError, KeyError):
        return _refusal("bad_data_format", "malformed request").dump()
    if request["message_imprint"]["hash_algorithm"]["algorithm"].native not in _DIGESTS:
        return _refusal("bad_alg", "unsupported hash algorithm").dump()
    return asyncio.run(timestamp_response(request)).dump()
