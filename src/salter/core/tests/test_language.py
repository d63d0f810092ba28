"""The language switch remembers a logged-in user's choice for their notifications."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from salter.identity.models import User

pytestmark = pytest.mark.django_db


def test_a_logged_in_user_keeps_the_language_they_chose(citizen: User) -> None:
    client = Client()
    client.force_login(citizen)
    assert citizen.language == "sr"
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    citizen.refresh_from_db()
    assert citizen.language == "en"
    client.post(reverse("set_language"), {"language": "xx", "next": "/"})  # not a language
    citizen.refresh_from_db()
    assert citizen.language == "en"


def test_anyone_may_switch_without_an_account() -> None:
    response = Client().post(reverse("set_language"), {"language": "sr-latn", "next": "/"})
    assert response.status_code == 302 and response.cookies["salter_language"].value == "sr-latn"
