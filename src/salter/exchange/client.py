"""The platform's side of a query to a register, over HTTP (protocol: docs/exchange.md).

:func:`ask` sends one query and returns an :class:`Answer`, or raises :class:`RegisterError`
when there is no usable answer (the register is down, too slow, refuses, or answers something
unreadable). Either way the exchange is in the message log (:class:`ExchangeMessage`) with both
bodies, their hashes and the platform's seal, and a query about a person is in the access log.
Never call it inside a transaction that holds locks: it waits on the network."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from salter.authorities.models import Authority
    from salter.cases.models import Case
    from salter.exchange.models import ExchangeMessage
    from salter.identity.models import User


@dataclass(frozen=True)
class Answer:
    found: bool  # False: the register holds no record for these inputs
    data: dict[str, Any] | None
    message: ExchangeMessage


class RegisterError(Exception):
    """No usable answer. ``retry``: worth asking again later (down, slow, unreadable) rather
    than a refusal that will not change (no right to ask, unknown query, bad input)."""

    def __init__(self, text: str, *, retry: bool, message: ExchangeMessage | None = None):
        super().__init__(text)
        self.retry = retry
        self.message = message


def ask(
    service_code: str,
    inputs: dict[str, Any],
    *,
    authority: Authority,
    purpose: str,
    official: User | None = None,
    case: Case | None = None,
    legal_basis: str | None = None,
) -> Answer:
    raise NotImplementedError
