"""The REST API's description is the committed file ``docs/openapi.json``: a change to the API's
surface — a route, a parameter, a field of a schema — shows in review as a diff of that file.

The file is written by ``make openapi`` (``salter export_openapi``, under the test settings);
this test builds the document the same way and fails when the two differ."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest
from django.test import Client

from salter.core.management.commands.export_openapi import document

SNAPSHOT = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"

REFRESH = (
    "docs/openapi.json is not what the code describes. If you changed the API on purpose, "
    "run `make openapi` and review the diff of docs/openapi.json with your change; if not, "
    "the diff below shows what your change did to the API:\n"
)


def test_the_committed_description_is_the_codes() -> None:
    built = document()
    committed = SNAPSHOT.read_text(encoding="utf-8") if SNAPSHOT.exists() else ""
    if built != committed:
        diff = difflib.unified_diff(
            committed.splitlines(keepends=True),
            built.splitlines(keepends=True),
            "docs/openapi.json (committed)",
            "the code",
            n=2,
        )
        lines = list(diff)
        shown = "".join(lines[:80]) + (
            f"… {len(lines) - 80} more lines\n" if len(lines) > 80 else ""
        )
        pytest.fail(REFRESH + shown, pytrace=False)


def test_the_exported_description_is_the_served_one(client: Client) -> None:
    """The file describes what ``/api/v1/openapi.json`` serves, not some other build of it."""
    served = client.get("/api/v1/openapi.json")
    assert served.status_code == 200
    assert served.json() == json.loads(document())
