"""How an event's hash is computed. Changing this breaks every stored chain: don't."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

GENESIS = "0" * 64


def canonical(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode()


def payload_hash(payload: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(payload)).hexdigest()


def event_hash(
    *,
    prev_hash: str,
    occurred_at: datetime,
    actor_id: int | None,
    on_behalf_of: str,
    mandate_id: int | None,
    authority_id: int | None,
    action: str,
    object_type: str,
    object_id: str,
    request_id: str,
    ip: str | None,
    via: str,
    payload_hash: str,
) -> str:
    body = {
        "prev": prev_hash,
        "at": occurred_at.isoformat(timespec="microseconds"),
        "actor": actor_id,
        "for": on_behalf_of,
        "mandate": mandate_id,
        "authority": authority_id,
        "action": action,
        "object": [object_type, object_id],
        "request": request_id,
        "ip": ip,
        "via": via,
        "payload": payload_hash,
    }
    return hashlib.sha256(canonical(body)).hexdigest()
