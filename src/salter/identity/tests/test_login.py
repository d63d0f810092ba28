"""Registration, e-mail verification, login with a second factor, lockout and sessions."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any

import pytest
from conftest import PASSWORD, Mailbox, add_totp, totp_code
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from salter.audit.models import AuditEvent
from salter.identity import services
from salter.identity.middleware import AUTH_AT, PENDING_2FA, SEEN_AT
from salter.identity.models import User, UserSession

pytestmark = pytest.mark.django_db


def _login(client: Client, email: str, password: str = PASSWORD, **extra: Any) -> Any:
    return client.post(
        reverse("identity:login"), {"username": email, "password": password}, **extra
    )


def _register(client: Client, **overrides: str) -> Any:
    data = {
        "full_name": "Ана Анић",
        "email": "ana@example.rs",
        "jmbg": "",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    data.update(overrides)
    return client.post(reverse("identity:register"), data)


def test_registration_sends_a_working_verification_link(
    client: Client, mailbox: Mailbox, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = _register(client, jmbg="0101990710008")
    assert response.status_code == 200
    assert "ana@example.rs" in response.content.decode()
    user = User.objects.get(email="ana@example.rs")
    assert user.password.startswith("md5$") or user.password.startswith("argon2")
    assert user.person is not None and user.person.jmbg == "0101990710008"

    # Not verified yet: the login is refused with a way forward.
    refused = _login(client, "ana@example.rs")
    assert "confirm your e-mail" in refused.content.decode().lower() or refused.status_code == 200
    assert "_auth_user_id" not in client.session

    [message] = mailbox.to("ana@example.rs")
    link = re.search(r"https?://\S+/register/verify/\S+/", mailbox.body(message))
    assert link is not None
    path = link.group(0).split("testserver", 1)[-1]
    assert client.get(path).status_code == 200
    assert client.get(path).status_code == 200  # a second click is harmless
    user.refresh_from_db()
    assert user.email_verified_at is not None
    assert AuditEvent.objects.filter(action="user.email_verified", actor_id=user.pk).count() == 1

    logged_in = _login(client, "ana@example.rs")
    assert logged_in.status_code == 302
    assert client.session["salter_loa"] == 1


def test_tampered_verification_link_is_refused(client: Client) -> None:
    response = client.get(reverse("identity:verify_email", args=["1:abc:def"]))
    assert response.status_code == 400
    assert "not valid" in response.content.decode() or "није" in response.content.decode()


def test_registration_errors_are_per_field_and_nothing_is_saved(
    client: Client, citizen: User
) -> None:
    response = _register(client, email=citizen.email, jmbg="0101990710007", password2="other")
    form = response.context["form"]
    assert "jmbg" in form.errors
    assert "password2" in form.errors
    assert User.objects.count() == 1
    duplicate = _register(client, email=citizen.email.upper())
    assert "email" in duplicate.context["form"].errors
    assert User.objects.count() == 1


def test_login_with_totp_reaches_level_two(client: Client, citizen: User) -> None:
    device = add_totp(citizen)
    response = _login(client, citizen.email)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("identity:login_verify"))
    assert client.session[PENDING_2FA] is True
    # Until the code is given, nothing else opens.
    assert client.get(reverse("identity:profile"))["Location"].startswith(
        reverse("identity:login_verify")
    )
    wrong = client.post(reverse("identity:login_verify"), {"code": "000000"})
    assert wrong.status_code == 200 and wrong.context["form"].errors
    # Guessing is slowed down: straight after a wrong code even the right one must wait.
    hurried = client.post(
        reverse("identity:login_verify"), {"code": totp_code(device)}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "wait" in str(hurried.context["form"].errors["code"])
    device.refresh_from_db()
    device.throttling_failure_timestamp = timezone.now() - timedelta(minutes=5)
    device.save()
    key_before = client.session.session_key
    ok = client.post(reverse("identity:login_verify"), {"code": totp_code(device)})
    assert ok.status_code == 302
    assert client.session["salter_loa"] == 2
    assert client.session.session_key != key_before  # rotated on privilege change
    assert UserSession.objects.get(user=citizen).loa == 2
    assert client.get(reverse("identity:profile")).status_code == 200


def test_recovery_code_works_once(client: Client, citizen: User) -> None:
    add_totp(citizen)
    from salter.core.context import Actor

    codes = services.regenerate_recovery_codes(Actor(user=citizen))
    _login(client, citizen.email)
    assert client.post(reverse("identity:login_verify"), {"code": codes[0]}).status_code == 302
    client.post(reverse("identity:logout"))
    _login(client, citizen.email)
    again = client.post(reverse("identity:login_verify"), {"code": codes[0]})
    assert again.status_code == 200 and again.context["form"].errors


def test_official_cannot_reach_official_pages_without_second_factor(
    client: Client, official: User
) -> None:
    response = _login(client, official.email)
    assert response["Location"] == reverse("identity:security")
    blocked = client.get(reverse("official:dashboard"))
    assert blocked.status_code == 302 and blocked["Location"] == reverse("identity:security")
    device = add_totp(official)
    step_up = client.get(reverse("official:dashboard"))
    assert step_up["Location"].startswith(reverse("identity:step_up"))
    client.post(reverse("identity:login_verify"), {"code": totp_code(device)})
    page = client.get(reverse("official:dashboard"))
    assert page.status_code == 200
    assert "Сурдулица" in page.content.decode()


def test_citizen_is_refused_official_pages(client: Client, citizen: User) -> None:
    add_totp(citizen)
    client.force_login(citizen)
    session = client.session
    session["salter_loa"] = 2
    session.save()
    assert client.get(reverse("official:dashboard")).status_code == 403


def test_lockout_is_per_username_and_ip_with_cool_off(
    client: Client, citizen: User, settings: Any
) -> None:
    other = User.objects.create_user(
        "other@example.rs", PASSWORD, full_name="Друга", email_verified_at=timezone.now()
    )
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        _login(client, citizen.email, "wrong password!")
    locked = _login(client, citizen.email)
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    # The same account from another network, and another account from this one, still work.
    elsewhere = Client(REMOTE_ADDR="10.1.2.3")
    assert _login(elsewhere, citizen.email).status_code == 302
    assert _login(Client(), other.email).status_code == 302
    # After the cool-off the citizen can log in again: nobody is locked out for good.
    from axes.models import AccessAttempt

    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME * 2)
    assert _login(Client(), citizen.email).status_code == 302


def _age_session(client: Client, *, auth: int = 0, seen: int = 0) -> None:
    session = client.session
    now = int(time.time())
    session[AUTH_AT] = now - auth
    session[SEEN_AT] = now - seen
    session.save()


def test_official_idle_timeout(client: Client, official: User, settings: Any) -> None:
    client.force_login(official)
    _age_session(client, seen=int(settings.SALTER_OFFICIAL_IDLE.total_seconds()) + 5)
    response = client.get(reverse("identity:profile"))
    assert response.status_code == 302 and reverse("identity:login") in response["Location"]
    assert "_auth_user_id" not in client.session


def test_citizen_is_not_idle_after_thirty_minutes(client: Client, citizen: User) -> None:
    client.force_login(citizen)
    _age_session(client, seen=31 * 60)
    assert client.get(reverse("identity:profile")).status_code == 200


def test_absolute_session_lifetime(client: Client, citizen: User, settings: Any) -> None:
    client.force_login(citizen)
    _age_session(client, auth=int(settings.SALTER_SESSION_ABSOLUTE.total_seconds()) + 5)
    assert client.get(reverse("identity:profile")).status_code == 302


def test_sessions_are_listed_and_can_be_ended_from_another_device(citizen: User) -> None:
    phone, laptop = Client(HTTP_USER_AGENT="Phone"), Client(HTTP_USER_AGENT="Laptop")
    _login(phone, citizen.email)
    _login(laptop, citizen.email)
    sessions = services.open_sessions(citizen)
    assert {s.user_agent for s in sessions} == {"Phone", "Laptop"}
    phone_session = next(s for s in sessions if s.user_agent == "Phone")
    laptop.post(reverse("identity:end_session", args=[phone_session.pk]))
    assert phone.get(reverse("identity:profile")).status_code == 302
    assert laptop.get(reverse("identity:profile")).status_code == 200
    # Nobody can end a session that is not theirs.
    intruder = User.objects.create_user(
        "x@example.rs", PASSWORD, full_name="X", email_verified_at=timezone.now()
    )
    other = Client()
    other.force_login(intruder)
    laptop_session = next(s for s in sessions if s.user_agent == "Laptop")
    other.post(reverse("identity:end_session", args=[laptop_session.pk]))
    assert laptop.get(reverse("identity:profile")).status_code == 200


def test_password_reset_by_email_ends_every_session(
    client: Client, citizen: User, mailbox: Mailbox
) -> None:
    other_device = Client()
    _login(other_device, citizen.email)
    client.post(reverse("identity:password_reset"), {"email": citizen.email})
    [message] = mailbox.to(citizen.email)
    link = re.search(r"https?://testserver(/password/reset/\S+/)", mailbox.body(message))
    assert link is not None
    form_page = client.get(link.group(1), follow=True)
    new_password = "a whole new passphrase 42"
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert done.status_code == 302
    assert other_device.get(reverse("identity:profile")).status_code == 302
    assert _login(Client(), citizen.email, new_password).status_code == 302
    assert AuditEvent.objects.filter(action="user.password_reset").exists()


def test_reset_for_unknown_address_looks_the_same(client: Client, mailbox: Mailbox) -> None:
    response = client.post(reverse("identity:password_reset"), {"email": "nobody@example.rs"})
    assert response.status_code == 302
    assert mailbox.messages == []


def test_totp_setup_with_wrong_code_keeps_the_key(client: Client, citizen: User) -> None:
    client.force_login(citizen)
    page = client.get(reverse("identity:security"))
    secret = page.context["secret"]
    wrong = client.post(reverse("identity:security"), {"name": "phone", "code": "123456"})
    assert wrong.context["form"].errors["code"]
    assert wrong.context["secret"] == secret  # the app already holds this key: keep it
    assert not services.has_second_factor(citizen)


def test_expired_verification_link(client: Client, citizen: User, settings: Any) -> None:
    citizen.email_verified_at = None
    citizen.save()
    token = services.email_token(citizen)
    from unittest import mock

    later = (
        time.time()
        + services.EMAIL_TOKEN_MAX_AGE.total_seconds()
        + timedelta(minutes=1).total_seconds()
    )
    with mock.patch("time.time", return_value=later):
        response = client.get(reverse("identity:verify_email", args=[token]))
    assert response.status_code == 400
