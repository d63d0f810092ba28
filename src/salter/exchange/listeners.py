"""How the data exchange takes part in a case (registered in ``ExchangeConfig.ready``).

* submitted — the people the case is about are recorded (the access log names them), and the
  evidence the definition names (``evidence``) is asked of the registers ex officio;
* the gate ``requires_evidence`` — a step waits until every piece of evidence is settled;
* the timeline names each piece of evidence and what came of it;
* every read of a case by an official or an API client is in the access log.
"""

from __future__ import annotations

from salter.cases import listeners
from salter.cases.models import Case, CaseEvent
from salter.exchange import reads, subjects
from salter.exchange.evidence import events
from salter.exchange.evidence import services as evidence

APP = "exchange"


@listeners.on(listeners.Submitted, app=APP, order=10)
def record_subjects(submitted: listeners.Submitted) -> None:
    subjects.on_submitted(submitted.case)


@listeners.on(listeners.Submitted, app=APP, order=50, keys=["evidence"])
def ask_for_evidence(submitted: listeners.Submitted) -> None:
    evidence.on_submitted(submitted.case)


@listeners.gate("requires_evidence", app=APP)
def evidence_settled(case: Case) -> str:
    return events.awaited(case)


listeners.describe(CaseEvent.Kind.EVIDENCE)(events.event_text)


# Showing a case to an official or an API client is a read of its subjects' data.
listeners.reader(reads.case_read)
