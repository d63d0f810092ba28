"""A real SMTP server on 127.0.0.1 (aiosmtpd) that the outbox tests can make misbehave:
refuse a recipient, or stall in the middle of the n-th transaction until released."""

from __future__ import annotations

import asyncio
import email
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller
from conftest import free_port


@dataclass
class Arrival:
    message: Message
    at: float  # time.time() when the server had the whole message

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    @property
    def body(self) -> str:
        payload = self.message.get_payload(decode=True)
        assert isinstance(payload, bytes)
        return payload.decode(self.message.get_content_charset() or "utf-8")


@dataclass
class Server:
    """What arrived, and how to misbehave. ``stall_at_rcpt=n``: the n-th RCPT TO waits (the
    transaction is not finished: a client killed now has sent nothing). ``stall_after_data=n``:
    the n-th message is taken, and the "250" is held back (RFC 1047's window)."""

    refuse: dict[str, str] = field(default_factory=dict)  # address → SMTP reply
    stall_at_rcpt: int | None = None
    stall_after_data: int | None = None
    arrivals: list[Arrival] = field(default_factory=list)
    stalled: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0
    _rcpts: int = 0
    _datas: int = 0

    async def _stall(self) -> None:
        self.stalled.set()
        while not self.release.is_set():
            await asyncio.sleep(0.01)

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        self._rcpts += 1
        if self._rcpts == self.stall_at_rcpt:
            await self._stall()
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.arrivals.append(Arrival(email.message_from_bytes(envelope.content), time.time()))
        self._datas += 1
        if self._datas == self.stall_after_data:
            await self._stall()
        return "250 OK"

    def received(self) -> list[Arrival]:
        with self.lock:
            return list(self.arrivals)

    def message_ids(self) -> Counter[str]:
        return Counter(a.message_id for a in self.received())

    def wait_for(self, count: int, timeout: float = 30) -> list[Arrival]:
        """Until ``count`` distinct messages have arrived (or the time is up)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.message_ids()) < count:
            time.sleep(0.02)
        return self.received()


@contextmanager
def smtp_server(**behaviour: Any) -> Iterator[Server]:
    server = Server(**behaviour)
    server.port = free_port()
    controller = Controller(server, hostname="127.0.0.1", port=server.port)
    controller.start()
    try:
        yield server
    finally:
        server.release.set()
        controller.stop()
