"""``{% evidence_panel case official=… as lines %}``: a case's evidence for its page, read by
the panel template itself so that both case pages show it with one include line and no change
to their views (:func:`salter.exchange.evidence.panel.panel` says what it costs)."""

from __future__ import annotations

from typing import Any

from django import template

from salter.exchange.evidence.panel import panel, waiting_steps

register = template.Library()


@register.simple_tag(takes_context=True)
def evidence_panel(context: Any, case: Any, official: bool = False) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    lines = panel(case, user if official else None, official=official)
    return {"lines": lines, "waiting": waiting_steps(case, lines) if official else []}
