from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    """Every test stores its files in its own directory, never in var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"
