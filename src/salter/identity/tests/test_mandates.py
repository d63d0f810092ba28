"""Acting for a company or, at a counter, for a citizen: both names are recorded."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from salter.audit.models import AuditEvent
from salter.core.context import Actor
from salter.identity import services
from salter.identity.models import Company, Person, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def company() -> Company:
    return Company.objects.create(pib="101134702", mb="07023014", name="Демо д.о.о.")


def test_user_acts_for_company_and_audit_names_both(
    client: Client, citizen: User, company: Company, system: Actor
) -> None:
    mandate = services.grant_company_mandate(system, agent=citizen, company=company)
    client.force_login(citizen)
    response = client.post(reverse("identity:act_for"), {"mandate": mandate.pk}, follow=True)
    assert "Демо д.о.о." in response.content.decode()
    event = AuditEvent.objects.get(action="mandate.acting_started")
    assert event.actor_id == citizen.pk
    assert event.on_behalf_of == company.ref
    assert event.mandate_id == mandate.pk
    # While acting, every later change records the principal too.
    client.post(reverse("identity:create_token"), {"name": "ERP", "scopes": ["read"], "days": 30})
    token_event = AuditEvent.objects.get(action="token.created")
    assert token_event.on_behalf_of == company.ref and token_event.actor_id == citizen.pk


def test_revoked_mandate_stops_acting(
    client: Client, citizen: User, company: Company, system: Actor
) -> None:
    mandate = services.grant_company_mandate(system, agent=citizen, company=company)
    client.force_login(citizen)
    client.post(reverse("identity:act_for"), {"mandate": mandate.pk})
    services.revoke_mandate(Actor(user=citizen), mandate.pk)
    page = client.get(reverse("identity:profile"))
    assert page.wsgi_request.acting_for is None  # type: ignore[attr-defined]


def test_counter_assistance_needs_an_official_and_recorded_consent(
    official: User, citizen: User
) -> None:
    person = Person.objects.create(jmbg="0101990710008", given_name="Петар", family_name="Петровић")
    with pytest.raises(PermissionDenied):
        services.grant_counter_mandate(Actor(user=citizen), person=person, consent="yes")
    with pytest.raises(ValidationError):
        services.grant_counter_mandate(Actor(user=official), person=person, consent="  ")
    mandate = services.grant_counter_mandate(
        Actor(user=official), person=person, consent="Signed consent form no. 17, counter 2"
    )
    assert mandate.valid_until is not None
    acting = services.start_acting(Actor(user=official), mandate.pk)
    assert acting.principal_ref == person.ref
    event = AuditEvent.objects.get(action="mandate.acting_started")
    assert (event.actor_id, event.on_behalf_of) == (official.pk, person.ref)


def test_someone_elses_mandate_cannot_be_used(
    client: Client, citizen: User, official: User, company: Company, system: Actor
) -> None:
    mandate = services.grant_company_mandate(system, agent=official, company=company)
    client.force_login(citizen)
    client.post(reverse("identity:act_for"), {"mandate": mandate.pk})
    assert "salter_acting" not in client.session
