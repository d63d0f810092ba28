"""``salter export_openapi``: the OpenAPI description of the REST API (``/api/v1/``) as the
committed file ``docs/openapi.json`` — ``make openapi`` writes it, and
``tests/test_openapi_snapshot.py`` fails when the code describes anything else, so every
change to the API's surface is reviewed as a diff of that file.

The same code gives the same bytes: keys sorted, two-space indent, letters as they are (no
``\\u`` escapes), a newline at the end, and translations off (the English source strings,
whatever language the shell or the settings prefer)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import translation
from ninja.responses import NinjaJSONEncoder

from salter.urls import api


def document() -> str:
    """The description as written to ``docs/openapi.json``."""
    with translation.override(None):
        schema = api.get_openapi_schema()
        text = json.dumps(
            schema, cls=NinjaJSONEncoder, indent=2, sort_keys=True, ensure_ascii=False
        )
    return text + "\n"


class Command(BaseCommand):
    help = "Write the REST API's OpenAPI description (docs/openapi.json) to stdout or a file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", help="Write to this file instead of stdout.")

    def handle(self, *args: Any, **options: Any) -> None:
        text = document()
        if options["output"]:
            Path(options["output"]).write_text(text, encoding="utf-8")
        else:
            self.stdout.write(text, ending="")
