"""How the e-mailbox takes part in a case (registered in ``MailboxConfig.ready``).

* submitted — the applicant's receipt is queued;
* moved — the definition's ``notifications`` for the step are queued; a step with ``deliver``
  delivers its act to the e-mailbox (or prepares it for the post);
* ``delivered`` — the automatic event this app tells the engine when a delivery takes effect;
* the timeline names each delivery step; the case pages list the case's deliveries.
"""

from __future__ import annotations

from typing import Any

from salter.cases import listeners
from salter.cases.errors import CaseError
from salter.cases.models import Case, CaseEvent
from salter.mailbox import case_notifications, delivery, queries
from salter.mailbox.models import Delivery

APP = "mailbox"

listeners.automatic("delivered", app=APP)
listeners.handles(APP, "delivery")  # the legal basis of electronic delivery


@listeners.on(listeners.Submitted, app=APP, order=40)
def receipt(submitted: listeners.Submitted) -> None:
    case_notifications.on_submitted(submitted.case)


@listeners.on(listeners.Moved, app=APP, order=20, keys=["notifications"])
def notify(moved: listeners.Moved) -> None:
    case_notifications.on_move(moved.case, moved.transition_id, moved.source, moved.to)


@listeners.on(listeners.Moved, app=APP, order=40, keys=["deliver"])
def deliver(moved: listeners.Moved) -> None:
    if "deliver" not in moved.transition:
        return
    try:
        delivery.deliver_act(moved.actor, moved.case, moved.transition["deliver"]["document"])
    except delivery.DeliveryError as exc:
        raise CaseError(str(exc)) from exc


@listeners.section("deliveries", app=APP)
def case_deliveries(case: Case, official: bool) -> Any:
    return queries.case_lines(case)


@listeners.describe(CaseEvent.Kind.DELIVERY)
def delivery_step(payload: Any) -> str:
    """A step of a delivery: which one, of what."""
    state = str(payload.get("state", ""))
    label = Delivery.State(state).label if state in Delivery.State.values else state
    return f"{label}, {payload.get('registry_number', '')}"
