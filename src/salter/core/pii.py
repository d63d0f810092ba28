"""Personal identifiers at rest: encrypted, with a keyed hash (blind index) for lookup.

A JMBG is never stored in clear. :func:`encrypt` gives ``pii1:<key id>:<nonce+ciphertext>``
(AES-256-GCM, the key id bound in as associated data, so a token moved to another key fails);
:func:`blind` gives ``<key id>:<HMAC-SHA256>`` of the normalised value, the only form that is
compared in queries (``Person.jmbg_hash``). Both subkeys are derived (HKDF) from one master key.

Keys come from ``SALTER_PII_KEYS`` — ``"<id>:<32 bytes base64url>,<id>:…"``, the first is the
current one, the others are still read. Rotation: put a new key first, run ``salter
rotate_pii_keys`` (re-encrypts and re-hashes every stored identifier under the new key), then
drop the old key. Lookups hash under every configured key, so they work during the rotation.

Values stored in clear before encryption was introduced are read as they are and encrypted by
the rotation command.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "pii1:"
_NONCE = 12


@dataclass(frozen=True)
class Key:
    id: str
    cipher: AESGCM
    index: bytes


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master)


def parse_keys(text: str) -> tuple[Key, ...]:
    keys: list[Key] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        key_id, sep, encoded = item.partition(":")
        if not sep or not key_id.isalnum():
            raise ImproperlyConfigured("SALTER_PII_KEYS: write each key as <id>:<base64 key>.")
        master = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        if len(master) < 32:
            raise ImproperlyConfigured(f"SALTER_PII_KEYS: key {key_id} is shorter than 32 bytes.")
        keys.append(
            Key(
                key_id,
                AESGCM(_derive(master, b"salter pii enc")),
                _derive(master, b"salter pii idx"),
            )
        )
    if not keys:
        raise ImproperlyConfigured("SALTER_PII_KEYS names no key.")
    if len({k.id for k in keys}) != len(keys):
        raise ImproperlyConfigured("SALTER_PII_KEYS: two keys have the same id.")
    return tuple(keys)


@cache
def _keys_for(text: str) -> tuple[Key, ...]:
    return parse_keys(text)


def keys() -> tuple[Key, ...]:
    return _keys_for(settings.SALTER_PII_KEYS)


def current() -> Key:
    return keys()[0]


def new_key_text(key_id: str) -> str:
    """A fresh key in the form ``SALTER_PII_KEYS`` takes (for ``salter rotate_pii_keys --new``)."""
    return f"{key_id}:{base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip('=')}"


def normalise(value: str) -> str:
    return "".join(str(value).split())


def encrypt(value: str) -> str:
    key = current()
    nonce = os.urandom(_NONCE)
    sealed = key.cipher.encrypt(nonce, normalise(value).encode(), key.id.encode())
    return f"{PREFIX}{key.id}:{base64.b64encode(nonce + sealed).decode()}"


def is_token(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def key_of(token: str) -> str | None:
    return token[len(PREFIX) :].partition(":")[0] if is_token(token) else None


def decrypt(token: str) -> str:
    """The clear value; a value that is not a token (stored before encryption) as it is."""
    if not is_token(token):
        return token
    key_id, _sep, body = token[len(PREFIX) :].partition(":")
    for key in keys():
        if key.id == key_id:
            raw = base64.b64decode(body)
            return key.cipher.decrypt(raw[:_NONCE], raw[_NONCE:], key_id.encode()).decode()
    raise ImproperlyConfigured(f"SALTER_PII_KEYS lacks key {key_id}, needed to read stored data.")


def _blind(key: Key, value: str) -> str:
    digest = hmac.new(key.index, normalise(value).encode(), hashlib.sha256).hexdigest()
    return f"{key.id}:{digest}"


def blind(value: str) -> str:
    """The keyed hash of ``value`` under the current key: what is stored for lookup."""
    return _blind(current(), value)


def blinds(value: str) -> list[str]:
    """The keyed hash under every configured key: what a lookup compares with."""
    return [_blind(key, value) for key in keys()]


# --- identifiers inside JSON documents (form data) ---------------------------------------------


def looks_like_jmbg(value: str) -> bool:
    """Thirteen digits: treated as a personal number wherever it is stored, whatever the form
    field is called — even with a wrong check digit (a mistyped number is still someone's)."""
    return len(value) == 13 and value.isdigit() and value.isascii()


def seal_tree(value: Any) -> Any:
    if isinstance(value, str):
        return encrypt(value) if looks_like_jmbg(value) else value
    if isinstance(value, dict):
        return {k: seal_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [seal_tree(v) for v in value]
    return value


def open_tree(value: Any) -> Any:
    if isinstance(value, str):
        return decrypt(value) if value.startswith(PREFIX) else value
    if isinstance(value, dict):
        return {k: open_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [open_tree(v) for v in value]
    return value


def tree_is_current(value: Any) -> bool:
    """Whether every identifier in ``value`` (as stored) is encrypted under the current key."""
    if isinstance(value, str):
        return key_of(value) == current().id if is_token(value) else not looks_like_jmbg(value)
    if isinstance(value, dict):
        return all(tree_is_current(v) for v in value.values())
    if isinstance(value, list):
        return all(tree_is_current(v) for v in value)
    return True


def identifiers_in(value: Any) -> Iterable[str]:
    """Every personal number in a (clear) JSON document."""
    if isinstance(value, str):
        if looks_like_jmbg(value):
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from identifiers_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from identifiers_in(item)


# --- model fields ------------------------------------------------------------------------------


class EncryptedTextField(models.TextField):
    """A text stored encrypted (:func:`encrypt`); read back in clear. It cannot be filtered
    on — pair it with a keyed-hash column for lookups."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return None if value is None else decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value in (None, "") or is_token(value):
            return value
        return encrypt(value)


class PersonalJSONField(models.JSONField):
    """A JSON document whose personal numbers are stored encrypted, read back in clear."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return open_tree(super().from_db_value(value, expression, connection))

    def get_prep_value(self, value: Any) -> Any:
        return super().get_prep_value(seal_tree(value))
