"""Helpers of the mailbox page and API tests: clients at a level of assurance, a delivered
decision, a PDF to attach, a business whose mailbox a representative reads."""

from __future__ import annotations

import json
from functools import cache

from django.test import Client
from django.utils import timezone

from salter.authorities.models import Authority
from salter.cases import services as cases
from salter.cases.models import Case
from salter.cases.tests.test_official_views import signed_in
from salter.core.context import Actor
from salter.identity import loa
from salter.identity import services as identity
from salter.identity.models import Company, Mandate, User
from salter.mailbox.models import Delivery, Message
from salter.mailbox.services import give_consent, mailbox_of

__all__ = ["signed_in"]


def act(user: User) -> Actor:
    return Actor(user=user, via="test")


def logged_in(user: User) -> Client:
    """A citizen's browser: a password login is enough for the mailbox."""
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    session = client.session
    session[loa.SESSION_KEY] = loa.PASSWORD
    session.save()
    return client


def token(user: User, *scopes: str) -> dict[str, str]:
    _token, secret = identity.create_api_token(
        act(user), name="ci", scopes=list(scopes or ("read", "write")), days=1, loa=2
    )
    return {"Authorization": f"Bearer {secret}"}


def deliver(case: Case, clerk: User, *, consent: bool = True) -> Delivery:
    """Deliver the approved case's decision: to the mailbox with consent, else by post."""
    if consent:
        give_consent(act(case.applicant), mailbox_of(case.applicant))
    cases.take_transition(act(clerk), case, "deliver")
    return Delivery.objects.select_related("message").get(case=case)


@cache
def a_pdf() -> bytes:
    from weasyprint import HTML

    return bytes(HTML(string="<h1>Допуна</h1><p>Извод из матичне књиге.</p>").write_pdf())


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def company_with_agent(agent: User) -> Company:
    company = Company.objects.create(pib="101134702", mb="07023014", name="Демо д.о.о.")
    Mandate.objects.create(kind="company", agent=agent, company=company)
    return company


def inbound(box_user: User, authority: Authority, subject: str = "Обавештење") -> Message:
    """A plain notice from an authority (no delivery), unread."""
    return Message.objects.create(
        mailbox=mailbox_of(box_user),
        authority=authority,
        direction=Message.Direction.INBOUND,
        subject=subject,
        body="Текст обавештења.",
        created_at=timezone.now(),
    )


def record(response_content: bytes) -> dict[str, object]:
    loaded = json.loads(response_content)
    assert isinstance(loaded, dict)
    return loaded
