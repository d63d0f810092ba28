"""``salter notify_worker``: send the notification outbox (e-mail, SMS, push).

Runs until SIGTERM or Ctrl+C (the message being sent is finished first); ``--once`` sends what
is due and exits (for a test or a cron job). Any number of workers may run at once, on any
number of machines: each claims its own rows. See :mod:`salter.mailbox.worker` for the
guarantee and ``docs/notifications.md`` for running it in production."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from salter.mailbox.worker import Worker


class Command(BaseCommand):
    help = "Send the notification outbox: e-mail over SMTP, SMS and push through their adapters."
    # The checks import every URLconf and with it PDF rendering: seconds of start-up for a
    # process that serves no URL (a restarted worker should be back at once).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Send what is due, then exit.")
        parser.add_argument(
            "--batch",
            type=int,
            default=None,
            help="Rows claimed at once (default SALTER_OUTBOX_BATCH).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch"] is not None and options["batch"] < 1:
            self.stderr.write("--batch must be at least 1")
            raise SystemExit(2)
        counts = Worker(batch=options["batch"]).run(once=options["once"])
        if options["once"] or options["verbosity"] > 1:
            self.stdout.write(
                f"sent: {counts['sent']}, retried later: {counts['retried']}, "
                f"failed: {counts['failed']}"
            )
