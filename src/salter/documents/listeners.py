"""How the registry of documents takes part in a case (registered in ``DocumentsConfig.ready``).

* submitted — the application is the case's first entry in the registry book;
* moved by a step with ``document`` — the step's act is drafted, signed or sealed;
* carried into a new year — the case is entered again under its new number.
"""

from __future__ import annotations

from salter.cases import listeners
from salter.cases.errors import CaseError
from salter.documents import acts, services, yearend

APP = "documents"

listeners.handles(APP, "documents")  # the acts a definition's steps may issue


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
