"""The officials' page of deputies and delegations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import PASSWORD, add_totp
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from salter.authorities.models import Authority, OrgUnit
from salter.core.context import Actor
from salter.identity import services
from salter.identity.models import Delegation, Membership, Role, User

pytestmark = pytest.mark.django_db
URL = "/official/delegations/"


def signed_in(user: User) -> Client:
    client = Client(headers={"accept-language": "en"})
    add_totp(user)
    client.force_login(user)
    session = client.session
    session["salter_loa"] = 2
    session.save()
    return client


def official(system: Actor, unit: OrgUnit, email: str, name: str, role: str) -> Membership:
    return services.add_official(
        system, email=email, full_name=name, unit=unit, role=role, password=PASSWORD
    )


def test_a_head_appoints_a_deputy_and_ends_it(unit: OrgUnit, system: Actor) -> None:
    head = official(system, unit, "sef@example.rs", "Бранко Шефовић", Role.HEAD_OF_UNIT)
    clerk = official(system, unit, "ref@example.rs", "Драган Референтовић", Role.CLERK)
    client = signed_in(head.user)
    page = client.get(URL).content.decode()
    assert "Драган Референтовић" in page and "Appoint a stand-in" in page

    until = (timezone.localdate() + timedelta(days=7)).isoformat()
    wrong = client.post(
        URL,
        {
            "membership": head.pk,
            "delegate": clerk.user.pk,
            "kind": "deputy",
            "valid_until": "2026-02-30",
        },
    )
    assert wrong.status_code == 400 and "Enter a date as YYYY-MM-DD." in wrong.content.decode()
    same = client.post(
        URL,
        {"membership": head.pk, "delegate": head.user.pk, "kind": "deputy", "valid_until": until},
    )
    assert same.status_code == 400 and "Choose someone else to stand in." in same.content.decode()

    done = client.post(
        URL,
        {
            "membership": head.pk,
            "delegate": clerk.user.pk,
            "kind": "deputy",
            "valid_until": until,
            "reason": "Одмор",
        },
    )
    assert done.status_code == 302
    delegation = Delegation.objects.get()
    assert (delegation.principal, delegation.delegate, delegation.role) == (
        head.user,
        clerk.user,
        Role.HEAD_OF_UNIT,
    )
    # The stand-in sees it; they may not end it — the principal may.
    assert "in force" in signed_in(clerk.user).get(URL).content.decode()
    revoke = reverse("official:delegation_revoke", args=[delegation.pk])
    assert signed_in(clerk.user).post(revoke).status_code == 404
    assert client.post(revoke).status_code == 302
    delegation.refresh_from_db()
    assert delegation.revoked_at is not None


def test_a_clerk_hands_on_only_their_own_role(
    unit: OrgUnit, system: Actor, authority: Authority
) -> None:
    head = official(system, unit, "sef@example.rs", "Бранко Шефовић", Role.HEAD_OF_UNIT)
    clerk = official(system, unit, "ref@example.rs", "Драган Референтовић", Role.CLERK)
    other = official(system, unit, "drugi@example.rs", "Други Референт", Role.CLERK)
    client = signed_in(clerk.user)
    until = (timezone.localdate() + timedelta(days=3)).isoformat()
    # The head's membership is not offered to a clerk: refused like an unknown choice.
    refused = client.post(
        URL,
        {
            "membership": head.pk,
            "delegate": other.user.pk,
            "kind": "delegated",
            "valid_until": until,
        },
    )
    assert (
        refused.status_code == 400 and "Choose whose role is handed on." in refused.content.decode()
    )
    ok = client.post(
        URL,
        {
            "membership": clerk.pk,
            "delegate": other.user.pk,
            "kind": "delegated",
            "valid_until": until,
        },
    )
    assert ok.status_code == 302 and Delegation.objects.filter(principal=clerk.user).exists()


def test_the_pages_need_an_official(citizen: User) -> None:
    anonymous = Client().get(URL)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert signed_in(citizen).get(URL).status_code in (302, 403)
    revoke = reverse("official:delegation_revoke", args=[1])
    assert Client().post(revoke).status_code == 302
