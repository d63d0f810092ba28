"""``salter sweep_files``: remove stored document files that no version refers to — left by a
transaction that failed after the file was written (the version's own failure removes its file
at once). Only files older than ``--older-than`` minutes (default 60) are touched, so a
transaction still running keeps its file. ``--dry-run`` lists them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from salter.documents.models import DocumentVersion


def stored_files(root: str = "documents") -> list[str]:
    found: list[str] = []
    pending = [root]
    while pending:
        path = pending.pop()
        if not default_storage.exists(path):
            continue
        directories, files = default_storage.listdir(path)
        found.extend(f"{path}/{name}" for name in files)
        pending.extend(f"{path}/{name}" for name in directories)
    return sorted(found)


def orphans(older_than: timedelta) -> list[str]:
    cutoff = timezone.now() - older_than
    candidates = [
        name for name in stored_files() if default_storage.get_modified_time(name) < cutoff
    ]
    known = set(DocumentVersion.objects.filter(file__in=candidates).values_list("file", flat=True))
    return [name for name in candidates if name not in known]


class Command(BaseCommand):
    help = "Remove stored document files that no document version refers to."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than", type=int, default=60, help="minutes (default 60)")
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        found = orphans(timedelta(minutes=options["older_than"]))
        for name in found:
            if not options["dry_run"]:
                default_storage.delete(name)
            self.stdout.write(name)
        verb = "would remove" if options["dry_run"] else "removed"
        self.stdout.write(f"{verb} {len(found)} file(s) no version refers to")
