"""Each register seals its log entries with its own e-seal, not the platform's: the register's
log is its own evidence of what it answered, checkable without trusting the platform.

The seal is a detached CMS signature over the record's UTF-8 bytes with an RFC 3161
timestamp, made and checked exactly like the platform's records
(:mod:`salter.mailbox.evidence`), so ``openssl cms -verify`` checks either."""

from __future__ import annotations

import asyncio
import base64

from salter.documents import signing
from salter.mailbox import evidence
from salter.registers.catalogue import REGISTERS

# A refusal before the register is known (an unknown path) is sealed by the service itself.
SERVICE_SEAL = ("registers", "Демо регистри")


def _signer(register_code: str) -> signing.Signer:
    register = REGISTERS.get(register_code)
    if register is None:
        return signing.seal_signer(*SERVICE_SEAL)
    return signing.seal_signer(f"register-{register.code}", register.seal_name)


def seal(register_code: str, text: str) -> str:
    """The base64 of a detached CMS signature of ``text`` by the register's e-seal."""
    signer = _signer(register_code)
    signed = asyncio.run(
        signer.signer.async_sign_general_data(
            text.encode(), "sha256", detached=True, timestamper=signing.timestamper()
        )
    )
    return base64.b64encode(signed.dump()).decode()


def verify(text: str, signature: str) -> evidence.Check:
    """Whether ``signature`` is a valid, trusted seal over exactly ``text``."""
    try:
        raw = base64.b64decode(signature, validate=True)
    except ValueError:
        return evidence.Check(intact=False, sealed=False, sealed_by="", timestamped=False)
    # A log entry is not chained to the one before, so its digest is its own.
    return evidence.verify(text, raw, evidence.digest(text), "")
