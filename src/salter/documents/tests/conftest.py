from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation

from salter.authorities.models import Authority
from salter.core.context import Actor
from salter.documents.models import Document
from salter.documents.tests.signing_helpers import dev_pki
from salter.documents.tests.verify_helpers import register_signed, signed_decision


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Messages are asserted in English (the source language); the site's default is sr."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    """Every test stores its files in its own directory, never in var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"


# --- the public verification tests (pages and API): a signed decision registered under a code;
# modules with a PKI of their own define their own pki_dir


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with dev_pki(tmp_path_factory.mktemp("pki")) as directory:
        yield directory


@pytest.fixture(scope="module")
def signed(pki_dir: Path) -> bytes:
    return signed_decision()


@pytest.fixture
def document(system: Actor, authority: Authority, signed: bytes) -> Document:
    return register_signed(system, authority, signed)
