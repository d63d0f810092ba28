"""``{% unread_messages as n %}``: the unread messages of the logged-in user's own mailbox, for
the site navigation. One query, run only where the navigation is rendered."""

from __future__ import annotations

from typing import Any

from django import template

from salter.mailbox import queries

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_messages(context: dict[str, Any]) -> int:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    return queries.unread_of_user(user)
