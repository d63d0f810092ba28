"""Evidence a case needs from registers, obtained ex officio (ZUP art. 9, 103).

At submission :func:`on_submitted` makes one :class:`EvidenceRequest` per evidence item of the
definition that names a register query, unless the applicant chose to bring it personally."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from salter.cases.models import Case


def on_submitted(case: Case) -> None:
    """Record the evidence the case needs, in the submission's transaction."""
