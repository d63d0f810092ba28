"""The eID login (OpenID Connect, authorisation code flow with PKCE) against a real provider.

``oidc-provider-mock`` runs on a thread of the test process; its login page is driven with
``requests`` exactly as a browser would submit it, and the redirect back is followed with
Django's test client. Nothing on the HTTP path is mocked.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from conftest import PASSWORD
from django.test import Client
from oidc_provider_mock import run_server_in_thread

from salter.audit.models import AuditEvent
from salter.identity import loa, oidc
from salter.identity.models import User, UserSession

# The provider's side of authlib warns about its own API; that is not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning")

EIDAS = "http://eidas.europa.eu/LoA/"
AUTH_USER = "_auth_user_id"


class Provider:
    """The running provider: register users with their claims, log in as one of them."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer

    def user(self, **claims: Any) -> str:
        sub = f"eid-{uuid.uuid4().hex[:12]}"
        self.set_claims(sub, **claims)
        return sub

    def set_claims(self, sub: str, **claims: Any) -> None:
        answer = requests.put(f"{self.issuer}/users/{sub}", json=claims, timeout=5)
        assert answer.status_code == 204, answer.text

    def authorize_url(self, client: Client, query: dict[str, str] | None = None) -> str:
        start = client.get("/login/oidc/", query or {})
        assert start.status_code == 302
        url: str = start["Location"]
        assert url.startswith(f"{self.issuer}/oauth2/authorize?")
        return url

    def login(
        self,
        client: Client,
        sub: str | None = None,
        *,
        deny: bool = False,
        query: dict[str, str] | None = None,
    ) -> Any:
        """Start at /login/oidc/, submit the provider's form, return the callback's response."""
        url = self.authorize_url(client, query)
        page = requests.get(url, timeout=5)
        assert page.status_code == 200
        assert 'name="sub"' in page.text  # the provider's "who are you" form
        form = {"action": "deny"} if deny else {"sub": sub or ""}
        answer = requests.post(url, data=form, allow_redirects=False, timeout=5)
        assert answer.status_code == 302, answer.text
        back = urlsplit(answer.headers["Location"])
        assert (back.scheme, back.netloc, back.path) == (
            "http",
            "testserver",
            "/login/oidc/callback/",
        )
        return client.get(f"{back.path}?{back.query}")


@pytest.fixture(scope="module")
def provider_url() -> Iterator[str]:
    with run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
def eid(provider_url: str, settings: Any, db: None) -> Iterator[Provider]:
    settings.SALTER_OIDC = {
        **settings.SALTER_OIDC,
        "issuer": provider_url,
        "client_id": "salter-test",
        "client_secret": "salter-test-secret",
    }
    oidc._clients.clear()
    yield Provider(provider_url)
    oidc._clients.clear()


@pytest.fixture
def browser() -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def subject_of(eid: Provider, sub: str) -> str:
    return f"{eid.issuer}#{sub}"


def test_first_login_opens_an_account_and_the_next_one_finds_it_by_subject(
    eid: Provider, browser: Client
) -> None:
    sub = eid.user(
        acr=f"{EIDAS}substantial",
        email="Ana.Jovanovic@Example.RS",
        email_verified=True,
        name="Ана Јовановић",
    )

    response = eid.login(browser, sub)

    assert response.status_code == 302
    assert response["Location"] == "/"
    user = User.objects.get(oidc_subject=subject_of(eid, sub))
    assert user.email == "ana.jovanovic@example.rs"
    assert user.full_name == "Ана Јовановић"
    assert user.email_verified_at is not None
    assert not user.has_usable_password()
    assert browser.session[AUTH_USER] == str(user.pk)
    assert browser.session[loa.SESSION_KEY] == loa.TWO_FACTOR
    registered = AuditEvent.objects.get(action="user.registered", object_id=str(user.pk))
    assert registered.actor_id == user.pk
    assert registered.via == "oidc"
    assert registered.payload == {"issuer": eid.issuer}
    assert UserSession.objects.get(user=user).method == "oidc"

    # Next time, from another browser and with a changed address at the provider: same account.
    eid.set_claims(sub, acr=f"{EIDAS}high", email="ana@example.rs", email_verified=True)
    again = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = eid.login(again, sub)

    assert response.status_code == 302
    assert again.session[AUTH_USER] == str(user.pk)
    assert again.session[loa.SESSION_KEY] == loa.HIGH
    assert User.objects.count() == 1
    assert AuditEvent.objects.filter(action="user.registered").count() == 1
    assert AuditEvent.objects.filter(action="user.logged_in", actor_id=user.pk).count() == 2
    assert sorted(UserSession.objects.filter(user=user).values_list("loa", flat=True)) == [2, 3]


@pytest.mark.parametrize(
    ("acr", "level"),
    [
        (f"{EIDAS}low", 1),
        (f"{EIDAS}substantial", 2),
        (f"{EIDAS}high", 3),
        ("medium", 2),
        ("high", 3),
        ("urn:example:unknown-level", 1),
        (None, 1),
    ],
)
def test_the_acr_claim_sets_the_level_of_assurance(
    eid: Provider, browser: Client, acr: str | None, level: int
) -> None:
    claims: dict[str, Any] = {"email": f"{uuid.uuid4().hex[:8]}@example.rs"}
    if acr is not None:
        claims["acr"] = acr

    response = eid.login(browser, eid.user(**claims))

    assert response.status_code == 302
    assert browser.session[loa.SESSION_KEY] == level
    user = User.objects.get(pk=browser.session[AUTH_USER])
    assert user.email == claims["email"]
    assert user.email_verified_at is None  # the provider did not vouch for the address
    assert UserSession.objects.get(user=user).loa == level


def test_without_an_email_the_account_gets_a_placeholder_address(
    eid: Provider, browser: Client
) -> None:
    sub = eid.user(acr="high")  # a national eID may release no address at all

    eid.login(browser, sub)

    user = User.objects.get(oidc_subject=subject_of(eid, sub))
    assert user.email == f"{sub}@eid.invalid"
    assert user.full_name == user.email


def test_a_verified_address_links_the_existing_account(
    eid: Provider, browser: Client, citizen: User
) -> None:
    sub = eid.user(acr=f"{EIDAS}high", email=citizen.email.upper(), email_verified=True)

    response = eid.login(browser, sub)

    assert response.status_code == 302
    assert browser.session[AUTH_USER] == str(citizen.pk)
    assert browser.session[loa.SESSION_KEY] == loa.HIGH
    citizen.refresh_from_db()
    assert citizen.oidc_subject == subject_of(eid, sub)
    assert citizen.has_usable_password()  # the password login keeps working
    assert User.objects.count() == 1
    linked = AuditEvent.objects.get(action="user.eid_linked")
    assert linked.object_id == str(citizen.pk)
    assert not AuditEvent.objects.filter(action="user.registered").exists()


def test_an_unverified_address_of_another_account_neither_links_nor_crashes(
    eid: Provider, browser: Client, citizen: User
) -> None:
    sub = eid.user(acr=f"{EIDAS}high", email=citizen.email, email_verified=False)

    response = eid.login(browser, sub)

    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert AUTH_USER not in browser.session
    citizen.refresh_from_db()
    assert citizen.oidc_subject is None
    assert User.objects.count() == 1
    page = browser.get("/login/")
    assert "An account with this e-mail address exists, and the eID provider did not confirm" in (
        page.content.decode()
    )
    assert not AuditEvent.objects.filter(action__in=["user.registered", "user.logged_in"]).exists()


def test_step_up_of_a_password_session_keeps_the_user_and_goes_to_next(
    eid: Provider, browser: Client, citizen: User
) -> None:
    login = browser.post("/login/", {"username": citizen.email, "password": PASSWORD})
    assert login.status_code == 302
    assert browser.session[loa.SESSION_KEY] == loa.PASSWORD
    sub = eid.user(acr="high", email=citizen.email, email_verified=True)

    url = eid.authorize_url(browser, {"level": "3", "next": "/account/"})
    assert parse_qs(urlsplit(url).query)["acr_values"] == ["high"]
    response = eid.login(browser, sub, query={"level": "3", "next": "/account/"})

    assert response.status_code == 302
    assert response["Location"] == "/account/"
    assert browser.session[AUTH_USER] == str(citizen.pk)
    assert browser.session[loa.SESSION_KEY] == loa.HIGH
    session = UserSession.objects.get(user=citizen, ended_at__isnull=True)
    assert (session.method, session.loa) == ("oidc", loa.HIGH)
    assert AuditEvent.objects.filter(action="user.logged_in", actor_id=citizen.pk).count() == 2


def test_step_up_through_eid_rotates_the_session_key(
    eid: Provider, browser: Client, citizen: User
) -> None:
    browser.post("/login/", {"username": citizen.email, "password": PASSWORD})
    password_session = browser.session.session_key
    sub = eid.user(acr="high", email=citizen.email, email_verified=True)

    eid.login(browser, sub, query={"level": "3"})

    assert browser.session[loa.SESSION_KEY] == loa.HIGH
    assert browser.session.session_key != password_session


def test_the_authorisation_request_uses_pkce_state_and_nonce(
    eid: Provider, browser: Client
) -> None:
    query = parse_qs(urlsplit(eid.authorize_url(browser)).query)

    assert query["client_id"] == ["salter-test"]
    assert query["response_type"] == ["code"]
    assert query["redirect_uri"] == ["http://testserver/login/oidc/callback/"]
    assert set(query["scope"][0].split()) == {"openid", "email", "profile"}
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) >= 43
    assert query["state"][0] and query["nonce"][0]
    assert "acr_values" not in query


def test_a_refusal_at_the_provider_shows_a_message_and_does_not_log_in(
    eid: Provider, browser: Client
) -> None:
    response = eid.login(browser, deny=True)

    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert AUTH_USER not in browser.session
    assert not User.objects.exists()
    page = browser.get("/login/")
    assert "The eID login did not complete (you cancelled it" in page.content.decode()


def test_a_callback_with_a_forged_state_is_refused(eid: Provider, browser: Client) -> None:
    sub = eid.user(acr="high", email="mallory@example.rs", email_verified=True)
    eid.authorize_url(browser)  # the victim's browser started a login ...
    attacker = Client(HTTP_ACCEPT_LANGUAGE="en")
    url = eid.authorize_url(attacker)
    answer = requests.post(url, data={"sub": sub}, allow_redirects=False, timeout=5)
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]

    # ... and is sent to the callback with the attacker's code and a state it never issued.
    response = browser.get("/login/oidc/callback/", {"code": code, "state": "forged"})

    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert AUTH_USER not in browser.session
    assert not User.objects.exists()
    assert "the eID service reported an error" in browser.get("/login/").content.decode()


@pytest.mark.parametrize(
    ("next_url", "target"),
    [
        ("/account/", "/account/"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example/", "/"),
    ],
)
def test_only_local_next_urls_are_followed(
    eid: Provider, browser: Client, next_url: str, target: str
) -> None:
    sub = eid.user(acr="high", email=f"{uuid.uuid4().hex[:8]}@example.rs")

    response = eid.login(browser, sub, query={"next": next_url})

    assert response.status_code == 302
    assert response["Location"] == target


def test_a_deactivated_account_cannot_log_in_with_eid(eid: Provider, browser: Client) -> None:
    sub = eid.user(acr="high", email="gone@example.rs", email_verified=True)
    eid.login(Client(), sub)
    User.objects.filter(email="gone@example.rs").update(is_active=False)

    response = eid.login(browser, sub)

    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert AUTH_USER not in browser.session
    assert "This account is disabled" in browser.get("/login/").content.decode()


def test_without_an_issuer_the_eid_login_does_not_exist(
    settings: Any, browser: Client, db: None
) -> None:
    settings.SALTER_OIDC = {**settings.SALTER_OIDC, "issuer": ""}

    assert browser.get("/login/oidc/").status_code == 404
    assert browser.get("/login/oidc/callback/?" + urlencode({"code": "x"})).status_code == 404
