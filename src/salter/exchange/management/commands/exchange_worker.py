"""``salter exchange_worker``: ask the registers for the evidence cases are waiting for.

Runs until SIGTERM or Ctrl+C (the query under way is finished and saved first); ``--once``
asks what is due and exits (for a test or a cron job). Between rounds it waits for a nudge —
on PostgreSQL ``LISTEN salter_exchange`` (a submission that needs evidence sends ``NOTIFY``
after its commit), on SQLite nothing — or ``--poll`` seconds, whichever comes first. Any number
of workers may run at once, on any number of machines: each claims its own requests
(:mod:`salter.exchange.evidence.worker`)."""

from __future__ import annotations

import signal
import threading
import time
from types import FrameType
from typing import Any

import structlog
from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError, connection

from salter.core.listener import Listener
from salter.exchange.evidence import worker

log = structlog.get_logger(__name__)


class Command(BaseCommand):
    help = "Ask the registers ex officio for the evidence cases need; retry, escalate."
    # A worker serves no URL: it need not import every URLconf (and PDF rendering) to start.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Ask what is due, then exit.")
        parser.add_argument(
            "--batch", type=int, default=20, help="Requests asked per round (default 20)."
        )
        parser.add_argument(
            "--poll", type=float, default=5.0, help="Seconds between looks (default 5)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch"] < 1 or options["poll"] <= 0:
            self.stderr.write("--batch must be at least 1 and --poll more than 0")
            raise SystemExit(2)
        self.stopping = False
        self.listener = Listener(worker.CHANNEL)
        restore = self._trap_signals()
        totals: dict[str, int] = {}
        try:
            while not self.stopping:
                try:
                    if not options["once"]:
                        self.listener.open()  # before looking, so no nudge goes unheard
                    while not self.stopping:
                        counts = worker.ask_due(options["batch"])
                        for outcome, n in counts.items():
                            totals[outcome] = totals.get(outcome, 0) + n
                        if sum(counts.values()) < options["batch"]:
                            break
                    if options["once"]:
                        break
                    self.listener.wait(options["poll"], lambda: self.stopping)
                except DatabaseError as exc:
                    # The database went away: start again with fresh connections.
                    log.warning("exchange_worker.database_error", error=repr(exc))
                    self.listener.close()
                    connection.close()
                    if options["once"]:
                        raise
                    time.sleep(options["poll"])
        finally:
            self.listener.close()
            restore()
        if options["once"] or options["verbosity"] > 1:
            self.stdout.write(", ".join(f"{k}: {v}" for k, v in sorted(totals.items())) or "-")

    def _stop(self, signum: int | None = None, frame: FrameType | None = None) -> None:
        self.stopping = True

    def _trap_signals(self) -> Any:
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        before = {s: signal.signal(s, self._stop) for s in (signal.SIGTERM, signal.SIGINT)}

        def restore() -> None:
            for signum, handler in before.items():
                signal.signal(signum, handler)

        return restore
