"""A definition's evidence items and the registers that answer them.

An item (``definition["evidence"]``) that names a ``register_query`` is obtained by the
platform from that register; its ``label`` and ``purpose`` are ``{"sr", "en"}`` texts. The
register is a :class:`~salter.exchange.models.DataService`, kept by an authority.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from salter.cases import workflow
from salter.exchange.models import DataService, EvidenceRequest

State = EvidenceRequest.State
# Not settled yet: a workflow step that requires evidence waits for these.
UNSETTLED = (State.PENDING, State.ESCALATED)


def register_items(definition: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The evidence items the platform obtains from a register (they name a query)."""
    return [item for item in definition.get("evidence", []) if item.get("register_query")]


def item_of(definition: Mapping[str, Any], code: str) -> dict[str, Any]:
    """The item ``code`` of the definition (one named by its code if it has none)."""
    for item in definition.get("evidence", []):
        if item.get("code") == code:
            return dict(item)
    return {"code": code, "label": {"sr": code, "en": code}}


def purpose_of(item: Mapping[str, Any]) -> str:
    """The purpose sent to the register and kept in both message logs and in the access log:
    the item's own purpose in the official language (Serbian), else the access log's code for
    evidence obtained ex officio (shown to each reader in their language)."""
    purpose = item.get("purpose")
    if isinstance(purpose, Mapping) and (purpose.get("sr") or purpose.get("en")):
        return str(purpose.get("sr") or purpose.get("en"))
    return "ex_officio_evidence"


def register_names(service: DataService | None, code: str) -> dict[str, str]:
    """Who answers — the authority that keeps the register — in both languages, kept in
    timeline events so that showing them costs no query; the query's code when the platform
    knows no such data service."""
    if service is None:
        return {"sr": code, "en": code}
    holder = service.authority
    return {"sr": holder.name, "en": holder.name_en or holder.name}


def query_name(service: DataService | None, code: str) -> str:
    """The data service asked, in the active language (its code when the platform knows no
    such data service)."""
    if service is None:
        return code
    return workflow.text({"sr": service.name, "en": service.name_en or service.name})


def data_services(codes: Iterable[str]) -> dict[str, DataService]:
    """The data services of these codes with their authorities, by code (one query, none for
    no codes)."""
    wanted = set(codes)
    if not wanted:
        return {}
    found = DataService.objects.filter(code__in=wanted).select_related("authority")
    return {s.code: s for s in found}
