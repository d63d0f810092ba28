"""The REST API at /api/v1/: authentication, scopes, step-up, errors, tokens and the schema."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from typing import Any

import pytest
from conftest import PASSWORD, add_totp, totp_code
from django.apps import apps
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from salter.audit.models import AuditEvent
from salter.authorities.models import Authority, OrgUnit
from salter.core.context import Actor
from salter.identity import authcache, loa, services
from salter.identity.models import ApiToken, User

pytestmark = pytest.mark.django_db

ME = "/api/v1/me"
TOKENS = "/api/v1/tokens"


def make_token(
    user: User, *, scopes: tuple[str, ...] = ("read",), level: int = 1, days: int = 30
) -> tuple[ApiToken, str]:
    return services.create_api_token(
        Actor(user=user, via="test"), name="ci", scopes=list(scopes), days=days, loa=level
    )


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def error_of(response: Any) -> dict[str, Any]:
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert isinstance(error["code"], str)
    assert isinstance(error["message"], str) and error["message"]
    return error


def password_session(client: Client, user: User) -> None:
    response = client.post("/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.session[loa.SESSION_KEY] == loa.PASSWORD


# --- Who am I -----------------------------------------------------------------------------


def test_me_with_a_token_takes_at_most_three_queries(
    client: Client,
    official: User,
    django_assert_max_num_queries: Any,
    django_assert_num_queries: Any,
) -> None:
    token, secret = make_token(official, level=2)

    with django_assert_max_num_queries(3):
        response = client.get(ME, headers=bearer(secret))

    assert response.status_code == 200
    assert response.json() == {
        "id": official.pk,
        "email": "clerk@surdulica.demo",
        "full_name": "Марко Петровић",
        "kind": "official",
        "level_of_assurance": 2,
        "authenticated_by": "token",
        "scopes": ["read"],
        "memberships": [{"authority": "surdulica", "unit": "social", "role": "clerk"}],
    }
    token.refresh_from_db()
    assert token.last_used_at is not None

    # Within the cache time the same token is served from memory: no query at all.
    with django_assert_num_queries(0):
        assert client.get(ME, headers=bearer(secret)).status_code == 200

    # Without the cache: last_used_at is written at most hourly, so the next call only reads.
    authcache.clear()
    with django_assert_num_queries(2):
        assert client.get(ME, headers=bearer(secret)).status_code == 200


def test_token_cache_never_outlives_a_revocation_in_this_process_nor_an_expiry(
    client: Client, official: User, settings: Any
) -> None:
    token, secret = make_token(official, level=2)
    assert client.get(ME, headers=bearer(secret)).status_code == 200  # now remembered
    services.revoke_api_token(Actor(user=official), token.pk)
    assert client.get(ME, headers=bearer(secret)).status_code == 401

    other, other_secret = make_token(official, level=2)
    assert client.get(ME, headers=bearer(other_secret)).status_code == 200
    ApiToken.objects.filter(pk=other.pk).update(expires_at=timezone.now())
    cached = authcache.get_token(other.prefix)
    assert cached is not None
    cached.expires_at = timezone.now() - timedelta(seconds=1)  # as the stored expiry passes
    assert client.get(ME, headers=bearer(other_secret)).status_code == 401
    # A wrong secret with a remembered prefix is still refused.
    assert client.get(ME, headers=bearer(other_secret[:-2] + "xx")).status_code == 401


def test_token_cache_can_be_switched_off(
    client: Client, official: User, settings: Any, django_assert_num_queries: Any
) -> None:
    settings.SALTER_API_AUTH_CACHE_SECONDS = 0
    _token, secret = make_token(official, level=2)
    assert client.get(ME, headers=bearer(secret)).status_code == 200
    with django_assert_num_queries(2):
        assert client.get(ME, headers=bearer(secret)).status_code == 200


def test_me_with_a_browser_session_takes_at_most_three_queries(
    client: Client, citizen: User, django_assert_max_num_queries: Any
) -> None:
    password_session(client, citizen)
    assert client.get(ME).status_code == 200  # the first request stamps the session

    with django_assert_max_num_queries(3):
        response = client.get(ME)

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == citizen.pk
    assert body["authenticated_by"] == "session"
    assert body["level_of_assurance"] == loa.PASSWORD
    assert body["scopes"] == ["read", "write"]
    assert body["memberships"] == []


# --- Refusals -----------------------------------------------------------------------------


def _expired(user: User) -> str:
    token, secret = make_token(user)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    return secret


def _revoked(user: User) -> str:
    token, secret = make_token(user)
    services.revoke_api_token(Actor(user=user), token.pk)
    return secret


def _tampered(user: User) -> str:
    _token, secret = make_token(user)
    return secret[:-4] + ("AAAA" if not secret.endswith("AAAA") else "BBBB")


def _of_a_deactivated_user(user: User) -> str:
    _token, secret = make_token(user)
    User.objects.filter(pk=user.pk).update(is_active=False)
    return secret


@pytest.mark.parametrize(
    "credentials",
    [
        pytest.param(lambda user: None, id="none"),
        pytest.param(lambda user: "Bearer slt_0000_wrong", id="unknown-token"),
        pytest.param(lambda user: "Bearer not-even-a-token", id="garbage"),
        pytest.param(lambda user: f"Basic {user.email}:{PASSWORD}", id="basic-auth"),
        pytest.param(lambda user: f"Bearer {_expired(user)}", id="expired"),
        pytest.param(lambda user: f"Bearer {_revoked(user)}", id="revoked"),
        pytest.param(lambda user: f"Bearer {_tampered(user)}", id="tampered"),
        pytest.param(lambda user: f"Bearer {_of_a_deactivated_user(user)}", id="inactive-user"),
    ],
)
def test_without_valid_credentials_the_answer_is_401_json(
    client: Client, citizen: User, credentials: Any
) -> None:
    header = credentials(citizen)
    headers = {"Authorization": header} if header else {}

    response = client.get(ME, headers=headers)

    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert citizen.email not in response.content.decode()


@pytest.mark.parametrize(
    "credentials",
    [
        pytest.param(lambda user: None, id="none"),
        pytest.param(lambda user: "Bearer slt_wrong", id="wrong-token"),
        pytest.param(lambda user: f"Bearer {_expired(user)}", id="expired"),
        pytest.param(lambda user: f"Bearer {_revoked(user)}", id="revoked"),
    ],
)
def test_a_write_without_valid_credentials_is_401_not_a_csrf_failure(
    citizen: User, credentials: Any
) -> None:
    """ninja's session auth checked CSRF before it knew there was no session (issue 19)."""
    header = credentials(citizen)
    browser = Client(enforce_csrf_checks=True)

    response = browser.post(
        "/api/v1/cases",
        "{}",
        content_type="application/json",
        headers={"Authorization": header} if header else {},
    )

    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_token_without_the_scope_gets_403_insufficient_scope(
    client: Client, citizen: User
) -> None:
    _token, write_only = make_token(citizen, scopes=("write",), level=2)
    _token, read_only = make_token(citizen, scopes=("read",), level=2)

    response = client.get(ME, headers=bearer(write_only))
    assert response.status_code == 403
    assert error_of(response)["code"] == "insufficient_scope"
    assert response["WWW-Authenticate"] == 'Bearer error="insufficient_scope", scope="read"'

    victim, _secret = make_token(citizen)
    response = client.delete(f"{TOKENS}/{victim.pk}", headers=bearer(read_only))
    assert response.status_code == 403
    assert error_of(response)["code"] == "insufficient_scope"
    assert 'scope="write"' in response["WWW-Authenticate"]
    victim.refresh_from_db()
    assert victim.revoked_at is None


# --- Revoking tokens: a write that needs level 2 --------------------------------------------


def test_revoking_with_a_level_1_token_asks_for_step_up(client: Client, citizen: User) -> None:
    _token, weak = make_token(citizen, scopes=("read", "write"), level=1)
    target, _secret = make_token(citizen)

    response = client.delete(f"{TOKENS}/{target.pk}", headers=bearer(weak))

    assert response.status_code == 401
    error = error_of(response)
    assert error["code"] == "insufficient_user_authentication"
    assert error["details"] == {"required_level": 2, "step_up_url": "/login/step-up/?level=2"}
    challenge = response["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert 'error="insufficient_user_authentication"' in challenge
    assert re.search(r'acr_values="[^"]+"', challenge)
    target.refresh_from_db()
    assert target.revoked_at is None
    assert not AuditEvent.objects.filter(action="token.revoked").exists()


def test_revoking_with_a_level_2_token_ends_the_token(client: Client, citizen: User) -> None:
    strong, strong_secret = make_token(citizen, scopes=("read", "write"), level=2)
    target, target_secret = make_token(citizen)
    assert client.get(ME, headers=bearer(target_secret)).status_code == 200

    response = client.delete(f"{TOKENS}/{target.pk}", headers=bearer(strong_secret))

    assert response.status_code == 204
    assert response.content == b""
    target.refresh_from_db()
    assert target.revoked_at is not None
    event = AuditEvent.objects.get(action="token.revoked")
    assert (event.object_id, event.actor_id, event.via) == (str(target.pk), citizen.pk, "api")
    assert client.get(ME, headers=bearer(target_secret)).status_code == 401
    assert client.get(ME, headers=bearer(strong_secret)).status_code == 200

    # Twice, or someone else's token: as if it did not exist.
    again = client.delete(f"{TOKENS}/{target.pk}", headers=bearer(strong_secret))
    assert again.status_code == 404
    assert error_of(again)["code"] == "not_found"
    other = User.objects.create_user("other@example.rs", PASSWORD, full_name="Other")
    theirs, their_secret = make_token(other)
    refused = client.delete(f"{TOKENS}/{theirs.pk}", headers=bearer(strong_secret))
    assert refused.status_code == 404
    assert error_of(refused)["code"] == "not_found"
    assert client.get(ME, headers=bearer(their_secret)).status_code == 200

    # A token can revoke itself, and then it is gone.
    assert client.delete(f"{TOKENS}/{strong.pk}", headers=bearer(strong_secret)).status_code == 204
    assert client.get(ME, headers=bearer(strong_secret)).status_code == 401


def test_a_browser_session_steps_up_with_totp_before_revoking(
    client: Client, citizen: User
) -> None:
    target, _secret = make_token(citizen)
    password_session(client, citizen)
    url = f"{TOKENS}/{target.pk}"

    response = client.delete(url)
    assert response.status_code == 401
    error = error_of(response)
    assert error["code"] == "insufficient_user_authentication"

    # The step-up page the error points to, with a phone added since the login.
    device = add_totp(citizen)
    stepped_up = client.post(error["details"]["step_up_url"], {"code": totp_code(device)})
    assert stepped_up.status_code == 302
    assert client.session[loa.SESSION_KEY] == loa.TWO_FACTOR
    assert client.delete(url).status_code == 204
    target.refresh_from_db()
    assert target.revoked_at is not None


def test_a_session_with_a_pending_second_factor_gets_a_json_401(
    client: Client, citizen: User
) -> None:
    add_totp(citizen)
    client.post("/login/", {"username": citizen.email, "password": PASSWORD})

    response = client.get(ME)

    assert response.status_code == 401
    assert error_of(response)["code"] == "second_factor_required"


def test_a_browser_session_write_needs_the_csrf_token(citizen: User) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(citizen)
    target, _secret = make_token(citizen)

    response = browser.delete(f"{TOKENS}/{target.pk}")

    assert response.status_code == 403
    assert error_of(response)["code"] == "csrf_failed"
    target.refresh_from_db()
    assert target.revoked_at is None


def test_a_browser_session_write_with_the_csrf_token_gets_past_the_check(citizen: User) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(citizen)
    browser.get("/account/")  # a page with a form sets the CSRF cookie
    target, _secret = make_token(citizen)

    response = browser.delete(
        f"{TOKENS}/{target.pk}", headers={"X-CSRFToken": browser.cookies["salter_csrf"].value}
    )

    # Past CSRF and authentication: refused only for the level of assurance revoking needs.
    assert response.status_code == 401
    assert error_of(response)["code"] == "insufficient_user_authentication"


# --- Listing tokens -----------------------------------------------------------------------


def test_the_token_list_never_shows_a_secret_or_its_digest(client: Client, citizen: User) -> None:
    first, first_secret = make_token(citizen, scopes=("read", "write"), level=2)
    second, second_secret = make_token(citizen)
    other = User.objects.create_user("other@example.rs", PASSWORD, full_name="Other")
    make_token(other)

    response = client.get(TOKENS, headers=bearer(first_secret))

    assert response.status_code == 200
    body = response.json()
    assert [t["id"] for t in body] == [second.pk, first.pk]  # newest first, only mine
    for item in body:
        assert set(item) == {
            "id",
            "name",
            "prefix",
            "scopes",
            "created_at",
            "expires_at",
            "revoked_at",
            "last_used_at",
        }
    assert body[1]["scopes"] == ["read", "write"]
    assert body[1]["prefix"] == first.prefix
    text = response.content.decode()
    for token, secret in [(first, first_secret), (second, second_secret)]:
        assert secret not in text
        # The random part follows "slt_<prefix>_" and may itself contain "_".
        assert secret.split("_", 2)[2] not in text
        assert token.digest not in text


# --- Public directory ---------------------------------------------------------------------


def test_authorities_are_public(client: Client, unit: OrgUnit) -> None:
    hidden = Authority.objects.create(
        code="closed", name="Затворено", name_en="Closed", kind=unit.authority.kind
    )
    Authority.objects.filter(pk=hidden.pk).update(is_active=False)

    listing = client.get("/api/v1/authorities")
    assert listing.status_code == 200
    assert listing.json() == [
        {
            "code": "surdulica",
            "name": "Општина Сурдулица",
            "name_en": "Municipality of Surdulica",
            "kind": unit.authority.kind,
            "parent": None,
        }
    ]

    detail = client.get("/api/v1/authorities/surdulica")
    assert detail.status_code == 200
    assert detail.json()["units"] == [
        {"code": "social", "name": "Одељење за друштвене делатности", "name_en": "Social affairs"}
    ]

    for code in ["nowhere", "closed"]:
        missing = client.get(f"/api/v1/authorities/{code}")
        assert missing.status_code == 404
        assert error_of(missing)["code"] == "not_found"


# --- The schema ---------------------------------------------------------------------------


def _api_routes() -> dict[str, str]:
    """Every URL under /api/v1/ as the resolver knows it (name → OpenAPI-style path)."""
    [api_include] = [
        p
        for p in get_resolver().url_patterns
        if isinstance(p, URLResolver) and p.namespace == "api"
    ]
    routes: dict[str, str] = {}
    for pattern in api_include.url_patterns:
        assert isinstance(pattern, URLPattern)
        route = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(pattern.pattern))
        routes[str(pattern.name)] = "/api/v1/" + route
    return routes


# The public directory and catalogue: readable without authentication.
PUBLIC_API_PREFIXES = ("/api/v1/authorities", "/api/v1/services", "/api/v1/documents/verify")


def test_the_openapi_schema_documents_every_route(client: Client) -> None:
    from salter.urls import api

    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert re.fullmatch(r"3\.1\.\d+", schema["openapi"])
    assert schema["info"]["title"] == "Šalter API"
    paths: dict[str, dict[str, Any]] = schema["paths"]

    # Every URL the resolver serves, except the schema, its viewer and the root, is documented.
    routes = _api_routes()
    for name in ["openapi-json", "openapi-view", "api-root"]:
        routes.pop(name, None)
    assert routes, "no API routes found"
    assert set(routes.values()) == set(paths)

    # ... with each HTTP method the routers declare, and the right authentication.
    declared = 0
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            full = "/api/v1" + prefix + path
            for operation in path_view.operations:
                for method in operation.methods:
                    documented = paths[full][method.lower()]
                    assert documented.get("summary"), f"{method} {full} has no summary"
                    assert "200" in documented["responses"] or "204" in documented["responses"]
                    schemes = {name for item in documented.get("security", []) for name in item}
                    if full.startswith(PUBLIC_API_PREFIXES):
                        assert schemes == set()
                    else:
                        assert schemes == {"TokenAuth", "BrowserSessionAuth"}
                    declared += 1
    assert declared == sum(len(p) for p in paths.values())
    assert set(schema["components"]["securitySchemes"]) == {"TokenAuth", "BrowserSessionAuth"}
    assert set(api.get_openapi_schema()["paths"]) == set(paths)


# --- Token secrets are stored only hashed -------------------------------------------------


def test_a_token_secret_is_stored_only_as_its_hash(citizen: User) -> None:
    token, secret = make_token(citizen, scopes=("read", "write"), level=2)

    assert re.fullmatch(rf"slt_{token.prefix}_[A-Za-z0-9_-]{{40,}}", secret)
    token.refresh_from_db()
    assert token.digest != secret
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()

    random_part = secret[len(f"slt_{token.prefix}_") :]  # it may itself contain "_"
    for model in apps.get_models():
        for row in model._default_manager.values_list():
            text = repr(row)
            assert random_part not in text, f"{model._meta.label} holds the token secret"


def test_no_altered_secret_authenticates(citizen: User) -> None:
    _token, secret = make_token(citizen)
    assert services.authenticate_token(secret) is not None

    @hypothesis_settings(
        max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )
    @given(
        position=st.integers(min_value=0, max_value=len(secret) - 1),
        replacement=st.characters(codec="ascii"),
        suffix=st.text(max_size=3),
    )
    def check(position: int, replacement: str, suffix: str) -> None:
        guess = secret[:position] + replacement + secret[position + 1 :] + suffix
        if guess == secret:
            return
        assert services.authenticate_token(guess) is None

    check()


@pytest.mark.parametrize("secret", ["slt_\x00bcdefg_x", "slt_ABCDEFGH_x", "slt_" + "a" * 300])
def test_malformed_tokens_are_refused_without_touching_the_database(
    client: Client, secret: str, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(0):
        response = client.get(ME, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 401
