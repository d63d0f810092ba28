"""``salter backup PATH [--keys-to KEYS]``: the database and the stored files in one archive
with a manifest; the keys only into a separate archive, and only when asked (core/backup.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from salter.core import backup


class Command(BaseCommand):
    help = (
        "Back up the database (SQLite online copy or pg_dump) and the stored files into one "
        "archive with a manifest of checksums. Keys are never in it: --keys-to writes them to a "
        "separate archive, to be kept apart."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="the archive to write, e.g. salter.tar.gz")
        parser.add_argument(
            "--keys-to",
            type=Path,
            metavar="PATH",
            help="also write SALTER_SECRET_KEY, SALTER_PII_KEYS and the PKI to this archive",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            manifest = backup.create(options["path"], keys_to=options["keys_to"], log=self.say)
        except backup.BackupError as error:
            raise CommandError(str(error)) from error
        needed = ", ".join(key["id"] for key in manifest["keys"]["pii_keys"])
        digest = backup.sha256_of(options["path"].resolve())
        self.stdout.write(
            self.style.SUCCESS(f"Backup written: {options['path']} (SHA-256 {digest}).")
        )
        self.stdout.write(
            f"A restore needs SALTER_PII_KEYS with key(s) {needed}, kept apart from this archive"
            + (
                "."
                if options["keys_to"]
                else " (--keys-to writes them to an archive of their own)."
            )
        )

    def say(self, line: str) -> None:
        self.stdout.write(line)
