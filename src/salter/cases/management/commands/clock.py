"""``salter clock``: enqueue the periodic jobs — timed transitions, escalation of overdue
tasks, closing the registry year after 31 December, deeming unopened deliveries delivered after
the legal period, the officials' daily digest of their queue (from ``SALTER_DIGEST_HOUR``,
once a day each), asking registers for the evidence cases wait for, and telling people of
the reads of their data that became visible — every ``SALTER_CLOCK_SECONDS`` (default 300),
for ``salter db_worker`` to run. ``--once`` enqueues them one time and exits (for cron or a
systemd timer); ``--run`` runs them in this process instead of enqueueing them."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from salter.cases import tasks, timers
from salter.core.context import Actor
from salter.documents import yearend
from salter.exchange import evidence, notices
from salter.exchange import tasks as exchange_tasks
from salter.mailbox import delivery, digest
from salter.mailbox import tasks as mailbox_tasks


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
                fired, flagged = timers.fire_timers(), timers.escalate_overdue()
                ended = yearend.close_past_years(Actor.system("command"))
                carried = sum(e.carried_over for e in ended)
                digests = digest.enqueue_digests()
                deemed = delivery.deem_due()
                asked = sum(evidence.ask_due().values())
                announced = notices.announce().notices
                partitions = len(exchange_tasks.make_access_log_partitions())
                self.stdout.write(
                    f"timers taken: {fired}, tasks escalated: {flagged}, "
                    f"registry years closed: {len(ended)}, cases carried over: {carried}, "
                    f"digests queued: {digests}, deliveries deemed delivered: {deemed}, "
                    f"evidence requests asked: {asked}, "
                    f"notices of reads of personal data queued: {announced}, "
                    f"access-log partitions made: {partitions}"
                )
            else:
                tasks.run_timers.enqueue()
                tasks.escalate_overdue.enqueue()
                tasks.close_past_years.enqueue()
                mailbox_tasks.send_digests.enqueue()
                mailbox_tasks.deem_deliveries.enqueue()
                exchange_tasks.ask_evidence.enqueue()
                exchange_tasks.announce_reads.enqueue()
                exchange_tasks.make_partitions.enqueue()
                self.stdout.write(
                    "enqueued: run_timers, escalate_overdue, close_past_years, send_digests, "
                    "deem_deliveries, ask_evidence, announce_reads, make_partitions"
                )
            if options["once"]:
                return
            time.sleep(interval)
