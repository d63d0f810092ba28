"""Evidence of delivery: each step of a delivery is a record the platform seals.

A record is canonical JSON (sorted keys, no spaces, UTF-8) naming the delivery, the step, its
time, who took it, the delivered document's registry number and SHA-256, and the digest of the
step before — so the steps of one delivery form a chain and none can be dropped or reordered
unnoticed. The platform seals the record with a detached CMS signature (its e-seal, with an
RFC 3161 timestamp from the configured TSA), which anyone can check with the record alone:

    openssl cms -verify -binary -inform DER -in step.p7s -content step.json -CAfile root.pem

:func:`verify` checks a step the same way the platform shows it in a dispute: the digest, the
chain, the signature over the exact bytes, and the certificate chaining to a trusted root.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from asn1crypto import cms
from django.conf import settings
from pyhanko.sign.validation import async_validate_detached_cms

from salter.documents import signing

PLATFORM = "platform"  # the seal's code in the PKI


def canonical(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _signer() -> signing.Signer:
    return signing.seal_signer(PLATFORM, settings.SALTER_PLATFORM_NAME)


def seal(text: str) -> bytes:
    """A detached CMS signature (DER) of ``text``'s UTF-8 bytes by the platform's e-seal, with
    a signature timestamp."""
    signer = _signer()
    signed = asyncio.run(
        signer.signer.async_sign_general_data(
            text.encode(), "sha256", detached=True, timestamper=signing.timestamper()
        )
    )
    return bytes(signed.dump())


@dataclass(frozen=True)
class Check:
    intact: bool  # the digest matches the record and the record follows the step before
    sealed: bool  # the signature is valid over these bytes and its certificate is trusted
    sealed_by: str
    timestamped: bool

    @property
    def valid(self) -> bool:
        return self.intact and self.sealed


def verify(text: str, signature: bytes, expected_digest: str, previous_digest: str) -> Check:
    intact = digest(text) == expected_digest
    try:
        record = json.loads(text)
        intact = intact and record.get("prev", "") == previous_digest
    except ValueError:
        intact = False
    try:
        content = cms.ContentInfo.load(bytes(signature))
        signed_data = content["content"]
        status = asyncio.run(
            async_validate_detached_cms(
                text.encode(),
                signed_data,
                signer_validation_context=signing.validation_context(),
                ts_validation_context=signing.validation_context(),
            )
        )
    except Exception:  # noqa: BLE001 — any failure to parse or check is "not sealed"
        return Check(intact=intact, sealed=False, sealed_by="", timestamped=False)
    return Check(
        intact=intact,
        sealed=bool(status.intact and status.valid and status.trusted),
        sealed_by=str(status.signing_cert.subject.native.get("common_name", "")),
        timestamped=status.timestamp_validity is not None,
    )
