"""Background tasks of the mailbox (Django Tasks API), enqueued by ``salter clock`` and run by
``salter db_worker``. Idempotent: an extra or repeated run queues nothing twice."""

from __future__ import annotations

from django_tasks import task

from salter.core import clock
from salter.mailbox import delivery, digest


@task()
def send_digests() -> int:
    """Queue the officials' daily digests (from SALTER_DIGEST_HOUR on, once a day each)."""
    return digest.enqueue_digests()


@task()
def deem_deliveries() -> int:
    """Deem delivered the electronic deliveries left unopened for the legal period."""
    return delivery.deem_due()


clock.register(
    "send_digests",
    task=send_digests,
    run=lambda: {"digests queued": digest.enqueue_digests()},
    order=40,
)
clock.register(
    "deem_deliveries",
    task=deem_deliveries,
    run=lambda: {"deliveries deemed delivered": delivery.deem_due()},
    order=50,
)
