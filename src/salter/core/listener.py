"""Waking a background worker when there is work: ``LISTEN`` on PostgreSQL, polling elsewhere.

The outbox worker and the exchange worker both wait between rounds for a ``NOTIFY`` sent after
a commit that made work for them, or for their poll interval, whichever comes first. The
listening connection is a dedicated autocommit one, apart from the connection the work runs
on, so a notice is heard while nothing else is happening."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections


class Listener:
    def __init__(self, channel: str) -> None:
        self.channel = channel
        self._wrapper: Any = None

    def open(self) -> Any:
        """The listening connection (opened on first use), or None where there is no NOTIFY.
        Open it before looking for work, so a commit between the look and the wait is heard."""
        if connection.vendor != "postgresql":
            return None
        if self._wrapper is None:
            wrapper = connections.create_connection(DEFAULT_DB_ALIAS)
            wrapper.ensure_connection()
            raw = wrapper.connection
            with wrapper.wrap_database_errors:
                raw.autocommit = True
                raw.execute(f"LISTEN {self.channel}")
            self._wrapper = wrapper
        return self._wrapper.connection

    def close(self) -> None:
        wrapper, self._wrapper = self._wrapper, None
        if wrapper is not None:
            try:
                wrapper.close()
            except DatabaseError:
                pass

    def wait(self, seconds: float, stopping: Callable[[], bool]) -> None:
        """Until a notice arrives, ``seconds`` pass, or ``stopping()`` turns true."""
        deadline = time.monotonic() + seconds
        raw = self.open()
        while not stopping():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if raw is None:
                time.sleep(min(left, 0.1))
                continue
            # stop_after=1 still takes every notice already received: a burst wakes us once.
            # A connection the server ended (a restart) raises Django's DatabaseError, which
            # the workers catch to start again with fresh connections, not psycopg's own.
            with self._wrapper.wrap_database_errors:
                if list(raw.notifies(timeout=min(left, 0.25), stop_after=1)):
                    return
