"""Shared fixtures for every test package (src/salter/*/tests and tests/)."""

from __future__ import annotations

import email
import os
import shutil
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from typing import Any, NoReturn

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from salter.authorities.models import Authority, OrgUnit
from salter.core.context import Actor
from salter.identity.models import Role, User

PASSWORD = "correct horse battery staple"  # noqa: S105


def missing_tool(reason: str) -> NoReturn:
    """A test that cannot run because a program is not installed: a skip on a developer's
    machine, a failure in CI (``CI=true``), where `make test` has installed everything."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} — required in CI", pytrace=False)
    pytest.skip(reason)


def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers("needs_tools"):
        missing = [tool for tool in mark.args if shutil.which(tool) is None]
        if missing:
            missing_tool(f"needs {', '.join(missing)} ({mark.kwargs.get('package', 'see README')})")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Mailbox:
    """What a real SMTP server on 127.0.0.1 received."""

    messages: list[Message] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        with self.lock:
            return [m for m in self.messages if address in m["To"]]

    def body(self, message: Message) -> str:
        if message.is_multipart():
            message = message.get_payload(0)  # type: ignore[assignment]
        payload = message.get_payload(decode=True)
        assert isinstance(payload, bytes)
        return payload.decode(message.get_content_charset() or "utf-8")


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield mailbox, port
    controller.stop()


@pytest.fixture
def mailbox(smtp_server: tuple[Mailbox, int], settings: Any) -> Mailbox:
    box, port = smtp_server
    # Django's test runner swaps in the in-memory backend; these tests use real SMTP.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    with box.lock:
        box.messages.clear()
    return box


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    from django.core.cache import cache

    from salter.identity import authcache

    cache.clear()
    authcache.clear()
    yield


@pytest.fixture(scope="session", autouse=True)
def _development_pki() -> None:
    """The development PKI in the test process's own directory (settings/test.py), made once:
    the pilots' steps sign and seal their acts with it."""
    from salter.documents import pki

    pki.init()


@pytest.fixture
def system() -> Actor:
    return Actor.system("command")


@pytest.fixture
def authority(db: None, system: Actor) -> Authority:
    from salter.authorities import services

    return services.create_authority(
        system,
        code="surdulica",
        name="Општина Сурдулица",
        name_en="Municipality of Surdulica",
        kind=Authority.Kind.LOCAL_GOVERNMENT,
    )


@pytest.fixture
def unit(authority: Authority, system: Actor) -> OrgUnit:
    from salter.authorities import services

    return services.create_unit(
        system,
        authority,
        code="social",
        name="Одељење за друштвене делатности",
        name_en="Social affairs",
    )


@pytest.fixture
def citizen(db: None) -> User:
    return User.objects.create_user(
        "citizen@example.rs",
        PASSWORD,
        full_name="Петар Петровић",
        email_verified_at=timezone.now(),
    )


@pytest.fixture
def official(unit: OrgUnit, system: Actor) -> User:
    from salter.identity import services

    membership = services.add_official(
        system,
        email="clerk@surdulica.demo",
        full_name="Марко Петровић",
        unit=unit,
        role=Role.CLERK,
        password=PASSWORD,
    )
    return membership.user


def add_totp(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def totp_code(device: TOTPDevice, offset: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + offset * device.step
    return f"{totp.token():0{device.digits}d}"
