"""Verifying the signatures, seals and timestamps of a PDF, in words a citizen understands.

Each signature goes through pyHanko's AdES validation with long-term data (ETSI EN 319 102-1
§ 5.6.3): the signature's own timestamp and the document timestamps prove when it existed, so a
certificate that expired or was revoked *after* signing does not spoil it, while one revoked
*before* does. Nothing is fetched from the network: the validation data embedded in the
document and the current CRLs of the development PKI are all that is used (production roots'
revocation data is embedded at signing time, B-LT).
"""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from typing import Any, Literal

import structlog
from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades import qualified_asn1
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate, AdESStatus
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import ades
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.pdf_embedded import (
    EmbeddedPdfSignature,
    async_validate_pdf_timestamp,
)
from pyhanko.sign.validation.policy_decl import (
    LocalKnowledge,
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.ltv.poe import (
    KnownPOE,
    POEType,
    ValidationObject,
    ValidationObjectType,
    digest_for_poe,
)
from pyhanko_certvalidator.policy_decl import REQUIRE_REVINFO, CertRevTrustPolicy
from pyhanko_certvalidator.registry import SimpleTrustManager
from pyhanko_certvalidator.revinfo.archival import CRLContainer

from salter.documents import pki, signing

log = structlog.get_logger(__name__)

Verdict = Literal["valid", "invalid", "indeterminate"]
Kind = Literal["seal", "personal"]


class Code(enum.StrEnum):
    """What a report says, as stable codes (for the API) with a citizen's sentence each."""

    VALID = "valid"
    CHANGED = "changed"
    NOT_TRUSTED = "not_trusted"
    REVOKED_BEFORE = "revoked_before"
    REVOKED_UNPROVEN = "revoked_unproven"
    NOT_VALID_THEN = "not_valid_then"
    NO_TIMESTAMP = "no_timestamp"
    UNCHECKED = "unchecked"
    NO_SIGNATURES = "no_signatures"
    UNREADABLE = "unreadable"
    ALL_VALID = "all_valid"
    SOME_INVALID = "some_invalid"
    SOME_UNCONFIRMED = "some_unconfirmed"
    DOCUMENT_TIMESTAMP = "document_timestamp"
    DOCUMENT_TIMESTAMP_INVALID = "document_timestamp_invalid"


TEXTS: dict[Code, Promise] = {
    Code.VALID: _("The signature is valid and the document has not been changed since."),
    Code.CHANGED: _("The document was changed after it was signed."),
    Code.NOT_TRUSTED: _("Signed by a certificate we do not trust."),
    Code.REVOKED_BEFORE: _("The certificate was revoked before the signature was made."),
    Code.REVOKED_UNPROVEN: _(
        "The certificate has been revoked, and nothing proves that the signature was made "
        "before that."
    ),
    Code.NOT_VALID_THEN: _("The certificate was not valid when the signature was made."),
    Code.NO_TIMESTAMP: _("The time of signing is not confirmed by a trusted timestamp."),
    Code.UNCHECKED: _("We could not check this signature completely."),
    Code.NO_SIGNATURES: _("The document has no signature or seal."),
    Code.UNREADABLE: _("This file is not a PDF document we can read."),
    Code.ALL_VALID: _("Every signature and seal on this document is valid."),
    Code.SOME_INVALID: _("At least one signature or seal on this document is not valid."),
    Code.SOME_UNCONFIRMED: _("We could not confirm every signature and seal on this document."),
    Code.DOCUMENT_TIMESTAMP: _("A timestamp confirms that the document existed in this form."),
    Code.DOCUMENT_TIMESTAMP_INVALID: _("A timestamp on the document is not valid."),
}


def text(code: Code) -> str:
    return str(TEXTS[code])


@dataclass(frozen=True)
class SignatureReport:
    """One signature or seal: who, when, and what holds."""

    field_name: str
    kind: Kind
    signer_name: str
    organisation: str
    signed_at: datetime | None  # the timestamp's time when it is valid, else the claimed time
    timestamp_valid: bool
    intact: bool  # the signed bytes are exactly as signed
    unchanged_since: bool  # nothing but signatures and validation data was added after it
    trusted: bool  # the certificate chains to one of our trust roots
    valid_then: bool  # the certificate was valid (not expired, not revoked) when signing
    revoked_at: datetime | None
    verdict: Verdict
    codes: tuple[Code, ...]
    ades_indication: str  # ETSI EN 319 102-1, e.g. "PASSED/OK", "INDETERMINATE/REVOKED_NO_POE"

    @property
    def messages(self) -> list[str]:
        return [text(code) for code in self.codes]

    @property
    def is_seal(self) -> bool:
        return self.kind == "seal"


@dataclass(frozen=True)
class TimestampReport:
    """A document timestamp (B-LTA): the document existed in this form at ``time``."""

    field_name: str
    time: datetime | None
    valid: bool
    authority: str


@dataclass(frozen=True)
class Report:
    verdict: Verdict
    codes: tuple[Code, ...]
    signatures: list[SignatureReport] = field(default_factory=list)
    document_timestamps: list[TimestampReport] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.verdict == "valid"

    @property
    def messages(self) -> list[str]:
        return [text(code) for code in self.codes]


# --- Entry point --------------------------------------------------------------------------


def verify_pdf(pdf: bytes) -> Report:
    """Check every signature, seal and document timestamp of ``pdf``."""
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        signatures = reader.embedded_regular_signatures
        timestamps = reader.embedded_timestamp_signatures
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        log.info("documents.verify.unreadable", error=str(exc))
        return Report(verdict="invalid", codes=(Code.UNREADABLE,))
    if not signatures:
        return Report(verdict="invalid", codes=(Code.NO_SIGNATURES,))
    return asyncio.run(_verify(signatures, timestamps))


async def _verify(
    signatures: list[EmbeddedPdfSignature], timestamps: list[EmbeddedPdfSignature]
) -> Report:
    spec = validation_spec(signatures)
    reports = [await _signature(sig, spec) for sig in signatures]
    stamps = [await _document_timestamp(ts) for ts in timestamps]
    verdicts = {r.verdict for r in reports}
    if any(not t.valid for t in stamps):
        verdicts.add("indeterminate")
    verdict: Verdict
    if "invalid" in verdicts:
        verdict, code = "invalid", Code.SOME_INVALID
    elif "indeterminate" in verdicts:
        verdict, code = "indeterminate", Code.SOME_UNCONFIRMED
    else:
        verdict, code = "valid", Code.ALL_VALID
    codes = [code]
    for report in reports:  # each problem once, in the order met
        codes += [c for c in report.codes if c != Code.VALID and c not in codes]
    if stamps:
        codes.append(
            Code.DOCUMENT_TIMESTAMP
            if all(t.valid for t in stamps)
            else Code.DOCUMENT_TIMESTAMP_INVALID
        )
    return Report(verdict, tuple(codes), reports, stamps)


def validation_spec(signatures: list[EmbeddedPdfSignature]) -> PdfSignatureValidationSpec:
    certs, crls = signing.local_validation_material()
    known = [*certs, *signing.trust_roots(), *_issued_locally(signatures)]
    policy = CertValidationPolicySpec(
        trust_manager=SimpleTrustManager.build(trust_roots=signing.trust_roots()),
        revinfo_policy=CertRevTrustPolicy(REQUIRE_REVINFO),
    )
    knowledge = LocalKnowledge(
        known_crls=[CRLContainer(asn1_crl.CertificateList.load(data)) for data in crls],
        known_certs=certs,
        known_poes=[_known_since_issued(cert) for cert in known],
    )
    return PdfSignatureValidationSpec(
        SignatureValidationSpec(
            cert_validation_policy=policy,
            revinfo_gathering_policy=RevocationInfoGatheringSpec(
                RevinfoOnlineFetchingRule.LOCAL_ONLY
            ),
            local_knowledge=knowledge,
        )
    )


def _issued_locally(signatures: list[EmbeddedPdfSignature]) -> list[asn1_x509.Certificate]:
    """The signers' certificates that the development PKI's issuing CA signed."""
    if not pki.exists():
        return []
    issuer = pki.ca_certificate("intermediate")
    found = []
    for sig in signatures:
        cert = sig.signer_cert
        try:
            x509.load_der_x509_certificate(cert.dump()).verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature):
            continue
        found.append(cert)
    return found


def _known_since_issued(cert: asn1_x509.Certificate) -> KnownPOE:
    """Our own CA certificates, the configured roots and the certificates our CA issued are
    known to us since they were issued: a proof of existence that lets a B-LT signature be
    checked in the past (a certificate revoked after signing) without a document timestamp.
    Certificates of other providers get that proof only from a document timestamp (B-LTA)."""
    return KnownPOE(
        poe_type=POEType.POLICY,
        digest=digest_for_poe(cert.dump()),
        poe_time=cert.not_valid_before,
        validation_object=ValidationObject(ValidationObjectType.CERTIFICATE, cert),
    )


# --- One signature ------------------------------------------------------------------------

_CHAIN_PROBLEMS = {
    AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND,
    AdESIndeterminate.CERTIFICATE_CHAIN_GENERAL_FAILURE,
    AdESIndeterminate.CHAIN_CONSTRAINTS_FAILURE,
    AdESIndeterminate.NO_SIGNING_CERTIFICATE_FOUND,
}
_REVOKED = {
    AdESFailure.REVOKED,
    AdESIndeterminate.REVOKED_NO_POE,
    AdESIndeterminate.REVOKED_CA_NO_POE,
}
_OUT_OF_VALIDITY = {
    AdESFailure.NOT_YET_VALID,
    AdESIndeterminate.NOT_YET_VALID,
    AdESIndeterminate.EXPIRED,
    AdESIndeterminate.OUT_OF_BOUNDS_NO_POE,
    AdESIndeterminate.OUT_OF_BOUNDS_NOT_REVOKED,
}
_CHANGES_ALLOWED = {
    ModificationLevel.NONE,
    ModificationLevel.LTA_UPDATES,
    ModificationLevel.FORM_FILLING,
}


async def _signature(
    sig: EmbeddedPdfSignature, spec: PdfSignatureValidationSpec
) -> SignatureReport:
    cert = sig.signer_cert
    try:
        result = await ades.ades_lta_validation(sig, spec)
    except (SignatureValidationError, ValueError) as exc:
        log.info("documents.verify.failed", field=sig.field_name, error=str(exc))
        return _unchecked(sig, cert)
    status: Any = result.api_status
    indication = result.ades_subindic
    intact = bool(status is not None and status.intact and status.valid) and indication not in {
        AdESFailure.HASH_FAILURE,
        AdESFailure.SIG_CRYPTO_FAILURE,
    }
    unchanged = bool(
        status is not None
        and status.coverage is not None
        and status.coverage >= SignatureCoverageLevel.ENTIRE_REVISION
        and status.modification_level in _CHANGES_ALLOWED
        and status.docmdp_ok is not False
    )
    passed = indication.status == AdESStatus.PASSED
    ts_time, ts_valid = _signature_timestamp(result)
    revocation = status.revocation_details if status is not None and not passed else None
    revoked_at = revocation.revocation_date if revocation is not None else None
    revoked = not passed and (indication in _REVOKED or revoked_at is not None)
    out_of_validity = indication in _OUT_OF_VALIDITY
    trusted = indication not in _CHAIN_PROBLEMS and (
        passed or revoked or out_of_validity or bool(status is not None and status.trusted)
    )

    # One sentence for the decisive problem, in this order: a changed document makes the
    # rest moot; an untrusted certificate makes its revocation status meaningless.
    codes: list[Code] = []
    if not intact or not unchanged:
        codes.append(Code.CHANGED)
    elif not trusted:
        codes.append(Code.NOT_TRUSTED)
    else:
        if revoked:
            before = (
                revoked_at is not None
                and ts_valid
                and ts_time is not None
                and (revoked_at <= ts_time)
            )
            proven = before or indication == AdESFailure.REVOKED
            codes.append(Code.REVOKED_BEFORE if proven else Code.REVOKED_UNPROVEN)
        if out_of_validity:
            codes.append(Code.NOT_VALID_THEN)
        if not ts_valid:
            codes.append(Code.NO_TIMESTAMP)

    verdict: Verdict
    if passed and not codes:
        verdict = "valid"
        codes.append(Code.VALID)
    elif (
        Code.CHANGED in codes
        or Code.REVOKED_BEFORE in codes
        or (indication.status == AdESStatus.FAILED)
    ):
        verdict = "invalid"
    else:
        verdict = "indeterminate"
        if not codes:
            codes.append(Code.UNCHECKED)
    signer_name, organisation = _names(cert)
    return SignatureReport(
        field_name=sig.field_name,
        kind=kind_of(cert),
        signer_name=signer_name,
        organisation=organisation,
        signed_at=ts_time if ts_valid else sig.self_reported_timestamp,
        timestamp_valid=ts_valid,
        intact=intact,
        unchanged_since=unchanged,
        trusted=trusted,
        valid_then=passed,
        revoked_at=revoked_at,
        verdict=verdict,
        codes=tuple(codes),
        ades_indication=f"{indication.status.name}/{indication.standard_name}",
    )


def _signature_timestamp(result: Any) -> tuple[datetime | None, bool]:
    ts_result = getattr(result, "signature_timestamp_status", None)
    if ts_result is None or ts_result.api_status is None:
        return None, False
    valid = ts_result.ades_subindic.status == AdESStatus.PASSED
    return ts_result.api_status.timestamp, valid


def _unchecked(sig: EmbeddedPdfSignature, cert: asn1_x509.Certificate | None) -> SignatureReport:
    signer_name, organisation = _names(cert)
    return SignatureReport(
        field_name=sig.field_name,
        kind=kind_of(cert),
        signer_name=signer_name,
        organisation=organisation,
        signed_at=None,
        timestamp_valid=False,
        intact=False,
        unchanged_since=False,
        trusted=False,
        valid_then=False,
        revoked_at=None,
        verdict="invalid",
        codes=(Code.CHANGED, Code.UNCHECKED),
        ades_indication="FAILED/FORMAT_FAILURE",
    )


async def _document_timestamp(ts: EmbeddedPdfSignature) -> TimestampReport:
    certs, crls = signing.local_validation_material()
    context = ValidationContext(
        trust_roots=signing.trust_roots(), other_certs=certs, crls=crls, allow_fetching=False
    )
    authority = _names(ts.signer_cert)[0]
    try:
        status = await async_validate_pdf_timestamp(ts, validation_context=context)
    except (SignatureValidationError, ValueError) as exc:
        log.info("documents.verify.timestamp_failed", field=ts.field_name, error=str(exc))
        return TimestampReport(ts.field_name, None, False, authority)
    valid = bool(status.intact and status.valid and status.trusted)
    return TimestampReport(ts.field_name, status.timestamp, valid, authority)


# --- Who signed ---------------------------------------------------------------------------


def _names(cert: asn1_x509.Certificate | None) -> tuple[str, str]:
    if cert is None:
        return "", ""
    subject = cert.subject.native
    return str(subject.get("common_name", "")), str(subject.get("organization_name", ""))


def kind_of(cert: asn1_x509.Certificate | None) -> Kind:
    """An e-seal or a personal signature: the certificate's QcType (ETSI EN 319 412-5) when it
    has one; otherwise an organisation without a person's given name and surname is a seal."""
    if cert is None:
        return "personal"
    for statement in qualified_asn1.get_qc_statements(cert):
        if statement["statement_id"].native == "qc_type":
            types = {t.native for t in statement["statement_info"]}
            if "qct_eseal" in types:
                return "seal"
            if "qct_esign" in types:
                return "personal"
    subject = cert.subject.native
    person = "given_name" in subject or "surname" in subject
    return "seal" if subject.get("organization_name") and not person else "personal"
