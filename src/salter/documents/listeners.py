"""How the registry of documents takes part in a case (registered in ``DocumentsConfig.ready``).

* submitted — the application is the case's first entry in the registry book;
* moved by a step with ``document`` — the step's act is drafted, signed or sealed;
* carried into a new year — the case is entered again under its new number;
* the case pages show the case's acts, and a step that signs asks for a fresh second factor.
"""

from __future__ import annotations

from typing import Any

from salter.cases import listeners
from salter.cases.errors import CaseError
from salter.cases.models import Case
from salter.documents import acts, queries, services, yearend

APP = "documents"

listeners.handles(APP, "documents")  # the acts a definition's steps may issue
listeners.confirms(acts.signs)  # a step that signs releases the key on a fresh second factor


@listeners.section("acts", app=APP)
def case_acts(case: Case, official: bool) -> Any:
    return queries.case_acts(case, official=official)


@listeners.on(listeners.Submitted, app=APP, order=20)
def register_application(submitted: listeners.Submitted) -> None:
    services.register_application(submitted.actor, submitted.case)


@listeners.on(listeners.Moved, app=APP, order=30, keys=["document"])
def make_act(moved: listeners.Moved) -> None:
    if "document" not in moved.transition:
        return
    try:
        acts.make(moved.actor, moved.case, moved.transition, confirmation=moved.confirmation)
    except acts.ActError as exc:
        raise CaseError(str(exc)) from exc


@listeners.on(listeners.Renumbered, app=APP, order=10)
def enter_carried_over(renumbered: listeners.Renumbered) -> None:
    yearend.enter_carried_over(renumbered)
