"""``salter clock``: enqueue the periodic jobs every app registered (:mod:`salter.core.clock`) —
timed transitions, escalation of overdue tasks, closing the registry year after 31 December,
deeming unopened deliveries delivered after the legal period, the officials' daily digest,
asking registers for the evidence cases wait for, telling people of the reads of their data
that became visible, the access log's partitions — every ``SALTER_CLOCK_SECONDS`` (default
300), for ``salter db_worker`` to run. ``--once`` enqueues them one time and exits (for cron or
a systemd timer); ``--run`` runs them in this process instead of enqueueing them."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from salter.core import clock


class Command(BaseCommand):
    help = "Enqueue (or run) the periodic jobs: timers, escalation, year end, daily digests."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="One round, then exit.")
        parser.add_argument(
            "--run", action="store_true", help="Run the jobs here instead of enqueueing them."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        interval = max(int(settings.SALTER_CLOCK_SECONDS), 1)
        while True:
            if options["run"]:
                done = [f"{what}: {n}" for job in clock.jobs() for what, n in job.run().items()]
                self.stdout.write(", ".join(done))
            else:
                for job in clock.jobs():
                    job.task.enqueue()
                self.stdout.write("enqueued: " + ", ".join(job.name for job in clock.jobs()))
            if options["once"]:
                return
            time.sleep(interval)
