"""How fees take part in a case (registered in ``PaymentsConfig.ready``).

* submitted — a payment order for each fee of the definition (``fees``); a fee that cannot be
  computed refuses the submission;
* moved into a final state — the fees still due are cancelled;
* ``paid`` — the automatic event this app tells the engine when every fee is paid;
* the applicant's case page shows the fees and their payment slips.
"""

from __future__ import annotations

from typing import Any

from salter.cases import listeners
from salter.cases.models import Case
from salter.payments import queries, services

APP = "payments"

listeners.automatic("paid", app=APP)


@listeners.on(listeners.Submitted, app=APP, order=30, keys=["fees"])
def open_orders(submitted: listeners.Submitted) -> None:
    services.open_orders(submitted.actor, submitted.case)


@listeners.on(listeners.Moved, app=APP, order=10, keys=["fees"])
def cancel_due(moved: listeners.Moved) -> None:
    if moved.closed and moved.definition.get("fees"):
        services.cancel_due(moved.case)


@listeners.section("fees", app=APP, pages=["applicant"])
def case_fees(case: Case, official: bool) -> Any:
    """The applicant's payment orders: one query, and only for a service with fees."""
    return queries.case_orders(case) if case.service_version.definition.get("fees") else []
