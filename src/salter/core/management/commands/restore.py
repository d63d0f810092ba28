"""``salter restore PATH [--keys KEYS] [--force]``: checks the archive against its manifest, the
migrations and the keys before anything is written, then loads the database and the files and
migrates forward (core/backup.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from salter.core import backup


class Command(BaseCommand):
    help = (
        "Restore a `salter backup` archive into the configured (empty) database and MEDIA_ROOT. "
        "Refuses a damaged archive, a backup made by newer code, missing personal-data keys and "
        "a non-empty target (unless --force)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="the archive written by `salter backup`")
        parser.add_argument(
            "--keys",
            type=Path,
            metavar="PATH",
            help="the keys archive written by `salter backup --keys-to`: restores the PKI",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="replace what the database, MEDIA_ROOT and SALTER_PKI_DIR hold",
        )
        parser.add_argument(
            "--allow-missing-keys",
            action="store_true",
            help="restore even though SALTER_PII_KEYS lacks a key the data is encrypted under",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            backup.restore(
                options["path"],
                force=options["force"],
                keys_from=options["keys"],
                allow_missing_keys=options["allow_missing_keys"],
                log=self.say,
            )
        except backup.BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(f"Restored {options['path']}. Check it: salter audit verify")
        )

    def say(self, line: str) -> None:
        self.stdout.write(line)
