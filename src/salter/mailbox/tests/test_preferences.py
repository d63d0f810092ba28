"""Choosing notifications: the service (audited, only one's own, the legal notice locked) and
the page /account/notifications/."""

from __future__ import annotations

import pytest
from conftest import add_totp
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from salter.audit.models import AuditEvent
from salter.identity.models import User
from salter.mailbox import outbox, preferences
from salter.mailbox.models import NotificationPreference
from salter.mailbox.tests.conftest import act

pytestmark = pytest.mark.django_db

URL = "/account/notifications/"


def test_what_a_citizen_gets_before_choosing(citizen: User) -> None:
    chosen = preferences.get(citizen)
    assert chosen[("case", "email")] and chosen[("delivery", "email")]
    assert not chosen[("case", "sms")] and not chosen[("payment", "push")]
    assert {kind for kind, _channel in chosen} == {"case", "delivery", "message", "payment"}


def test_officials_are_offered_the_digest_by_email(official: User) -> None:
    chosen = preferences.get(official)
    assert chosen[("digest", "email")] is True
    assert ("digest", "sms") not in chosen and ("digest", "push") not in chosen


def test_choices_are_stored_audited_and_the_legal_notice_stays_on(citizen: User) -> None:
    now = preferences.set(
        act(citizen),
        citizen,
        {("case", "email"): False, ("case", "push"): True, ("delivery", "email"): False},
    )
    assert now[("case", "email")] is False and now[("case", "push")] is True
    assert now[("delivery", "email")] is True  # the law requires the notice
    stored = set(NotificationPreference.objects.values_list("kind", "channel", "enabled"))
    assert stored == {("case", "email", False), ("case", "push", True)}
    event = AuditEvent.objects.get(action="notifications.preferences_changed")
    assert event.payload == {"case/email": False, "case/push": True}
    assert event.object_id == str(citizen.pk) and event.actor_id == citizen.pk
    # Saying the same again changes nothing and records nothing.
    preferences.set(act(citizen), citizen, {("case", "email"): False})
    assert AuditEvent.objects.filter(action="notifications.preferences_changed").count() == 1
    # Turning it back on.
    assert preferences.set(act(citizen), citizen, {("case", "email"): True})[("case", "email")]
    assert NotificationPreference.objects.get(kind="case", channel="email").enabled


def test_only_the_user_chooses_and_only_what_exists(citizen: User, official: User) -> None:
    with pytest.raises(PermissionDenied):
        preferences.set(act(official), citizen, {("case", "email"): False})
    with pytest.raises(ValidationError):
        preferences.set(act(citizen), citizen, {("digest", "email"): False})  # not an official
    with pytest.raises(ValidationError):
        preferences.set(act(citizen), citizen, {("gossip", "email"): False})
    assert not NotificationPreference.objects.exists()


def logged_in(user: User) -> Client:
    client = Client(headers={"accept-language": "en"})
    if user.is_official:
        add_totp(user)
    client.force_login(user)
    session = client.session
    session["salter_loa"] = 2
    session.save()
    return client


def test_the_page_needs_a_login() -> None:
    response = Client().get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert reverse("notifications:preferences") == URL


def test_the_page_shows_and_saves_the_choices(citizen: User) -> None:
    client = logged_in(citizen)
    page = client.get(URL).content.decode()
    assert "Progress of my cases" in page and "Daily digest" not in page
    assert 'name="case.email" id="n-caseemail" checked' in page
    assert 'name="case.push" id="n-casepush">' in page
    assert 'name="delivery.email" id="n-deliveryemail" checked disabled' in page
    assert 'name="case.sms" id="n-casesms" disabled' in page  # no phone number
    assert "the law requires the notice" in page
    assert "SMS needs a mobile phone number" in page
    assert '<label for="n-casepush" class="visually-hidden">Progress of my cases: Push' in page
    # Everything unticked but push for cases: e-mails off, the legal notice stays on.
    response = client.post(URL, {"case.push": "on"}, follow=True)
    assert response.redirect_chain == [(URL, 302)]
    assert "Your choices are saved." in response.content.decode()
    chosen = preferences.get(citizen)
    assert chosen[("case", "push")] and not chosen[("case", "email")]
    assert not chosen[("message", "email")] and chosen[("delivery", "email")]
    assert outbox.DELIVERY == "delivery"


def test_sms_is_offered_with_a_phone_number(citizen: User) -> None:
    citizen.phone = "+381641234567"
    citizen.save()
    client = logged_in(citizen)
    assert 'name="case.sms" id="n-casesms">' in client.get(URL).content.decode()
    client.post(URL, {"case.email": "on", "case.sms": "on"})
    assert preferences.get(citizen)[("case", "sms")] is True


def test_an_official_chooses_the_digest(official: User) -> None:
    client = logged_in(official)
    assert "Daily digest of my work queue" in client.get(URL).content.decode()
    client.post(URL, {"case.email": "on"})
    assert preferences.get(official)[("digest", "email")] is False


def test_the_profile_links_to_the_page(citizen: User) -> None:
    assert URL in logged_in(citizen).get(reverse("identity:profile")).content.decode()
