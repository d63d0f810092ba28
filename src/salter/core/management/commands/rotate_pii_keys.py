"""Re-encrypt every stored personal identifier under the current key (SALTER_PII_KEYS' first).

Rotation: generate a key (``--new-key ID`` prints one), put it first in SALTER_PII_KEYS with
the old keys after it, restart, run this command, then drop the old keys. Rows already under
the current key are skipped, so the command can be stopped and run again; each batch is its
own transaction. ``--check`` only counts what is left to do (exit status 1 if anything is)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from salter.core import pii
from salter.core.rotation import rotate_all


class Command(BaseCommand):
    help = "Re-encrypt personal identifiers at rest under the current key and re-hash them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true", help="Count only; change nothing.")
        parser.add_argument("--batch", type=int, default=500)
        parser.add_argument(
            "--new-key", metavar="ID", help="Print a new random key with this id and stop."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["new_key"]:
            if not options["new_key"].isalnum():
                raise CommandError("A key id is letters and digits only.")
            self.stdout.write(pii.new_key_text(options["new_key"]))
            return
        results = rotate_all(batch=options["batch"], dry_run=options["check"])
        left = 0
        for result in results:
            left += result.stale
            verb = "to re-encrypt" if options["check"] else "re-encrypted"
            self.stdout.write(
                f"{result.label}: {result.stale} {verb} of {result.total} "
                f"(key now {pii.current().id})"
            )
        if options["check"] and left:
            raise CommandError(f"{left} rows are not yet under key {pii.current().id}.")
