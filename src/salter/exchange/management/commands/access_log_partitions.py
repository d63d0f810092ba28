"""Make the access log's monthly partitions ahead of time (PostgreSQL; run daily by the
clock). Reads logged in a month without a partition land in the default partition."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django.utils import timezone

from salter.exchange import access_log


class Command(BaseCommand):
    help = "Create the access log's partitions for this month and the next ones."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--months", type=int, default=3, help="How many months ahead.")

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            self.stdout.write("The access log is partitioned on PostgreSQL only: nothing to do.")
            return
        made = access_log.ensure_partitions(connection, timezone.localdate(), options["months"])
        self.stdout.write(f"partitions made: {', '.join(made) or 'none (all exist)'}")
