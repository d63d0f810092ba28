"""The site's own addresses follow the port `make run` serves on (``PORT``) unless they are set:
a second instance on another port must ask its own demo registers and print links to itself.
Settings are read once per process, so each case reads them in a fresh one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

READ = """
import json
from django.conf import settings
print(json.dumps({
    "public": settings.SALTER_PUBLIC_URL,
    "registers": settings.SALTER_REGISTERS_URL,
    "pki": settings.SALTER_PKI_BASE_URL,
    "passkeys": settings.OTP_WEBAUTHN_ALLOWED_ORIGINS,
}))
"""

ADDRESSES = ("PORT", "SALTER_PUBLIC_URL", "SALTER_REGISTERS_URL", "SALTER_PKI_BASE_URL")


def addresses(tmp_path: Path, module: str = "salter.settings.dev", **env: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in ADDRESSES}
    clean.pop("SALTER_WEBAUTHN_ORIGINS", None)
    clean |= {"DJANGO_SETTINGS_MODULE": module, "SALTER_VAR_DIR": str(tmp_path), **env}
    out = subprocess.run(
        [sys.executable, "-c", READ], env=clean, capture_output=True, text=True, check=True
    )
    return dict(json.loads(out.stdout))


def test_the_addresses_follow_the_port(tmp_path: Path) -> None:
    assert addresses(tmp_path, PORT="18557") == {
        "public": "http://127.0.0.1:18557",
        "registers": "http://127.0.0.1:18557/registers",
        "pki": "http://127.0.0.1:18557",
        "passkeys": ["http://localhost:18557"],
    }


def test_without_a_port_they_are_on_8000(tmp_path: Path) -> None:
    assert addresses(tmp_path)["public"] == "http://127.0.0.1:8000"


def test_a_public_url_that_is_set_wins_over_the_port(tmp_path: Path) -> None:
    found = addresses(tmp_path, PORT="18557", SALTER_PUBLIC_URL="https://salter.example.rs")
    assert found["public"] == "https://salter.example.rs"
    assert found["registers"] == "https://salter.example.rs/registers"
    assert found["passkeys"] == ["http://localhost:18557"]  # set on its own


@pytest.mark.parametrize("env", [{"PORT": "18557"}, {"SALTER_PUBLIC_URL": "https://x.example"}])
def test_the_tests_own_addresses_ignore_the_shell(tmp_path: Path, env: dict[str, str]) -> None:
    found = addresses(tmp_path, "salter.settings.test", **env)
    assert found["public"] == "http://127.0.0.1:8000"
    assert found["registers"] == "http://127.0.0.1:8000/registers"
