from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from salter.audit import services


class Command(BaseCommand):
    help = "Audit log tools. `salter audit verify` walks the hash chain."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args: Any, **options: Any) -> None:
        report = services.verify()
        if not report.ok:
            raise CommandError(
                f"Audit chain BROKEN at event #{report.broken_at} after {report.checked} good "
                f"events: {report.problem}."
            )
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {report.checked} events."))
