"""Every URL pattern and API route needs authentication unless it is on the public list.

A new route that forgets its guard fails here, by name (GOV.UK Notify's
test_route_authentication does the same)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

# name → why it is public. Anything not listed must refuse an anonymous caller.
PUBLIC = {
    "core:home": "the front page and directory of authorities",
    "core:healthz": "liveness probe for the load balancer",
    "core:readyz": "readiness probe for the load balancer",
    "core:help": "help and contact: needed most by someone who cannot log in",
    "core:accessibility": "the accessibility statement, linked from every page's footer",
    "core:privacy": "the privacy notice: read before giving any data",
    "core:manifest": "the web app manifest, fetched by the browser without a session",
    "set_language": "choosing a language before logging in",
    "identity:login": "logging in",
    "identity:oidc_start": "logging in with the national eID",
    "identity:oidc_callback": "the eID provider returns here",
    "identity:logout": "harmless when not logged in",
    "identity:register": "becoming an e-citizen",
    "identity:verify_email": "the link in the verification e-mail",
    "identity:resend_verification": "asking for a new verification link",
    "identity:password_reset": "forgotten password",
    "identity:password_reset_done": "forgotten password",
    "identity:password_reset_confirm": "the link in the reset e-mail",
    "identity:password_reset_complete": "forgotten password",
    "otp_webauthn:js-i18n-catalog": "translations for the passkey script",
    "api:api-root": "API index",
    "api:openapi-json": "the published API description",
    "api:openapi-view": "interactive API documentation",
    "api:list_authorities": "the public directory of authorities",
    "api:get_authority": "the public directory of authorities",
    "api:list_services": "the public catalogue of services",
    "api:get_definition": "published service definitions are public, so forms can be built",
    "catalog:definition_schema_v1": "the published format of service definitions",
    "pki:crl": "revocation lists: anyone validating a signature must fetch them",
    "pki:ca_certificate": "CA certificates named in issued certificates (AIA)",
    "pki:tsa": "RFC 3161 timestamp protocol, called by signing software without a session",
    "verify:start": "anyone holding a document checks it: the code under its QR code or the PDF",
    "verify:code": "where the QR code printed on every document leads",
    "verify:download": "the holder of a document's code gets the registered PDF (audit-logged)",
    "api:verify_code": "public verification by code, for machines",
    "api:verify_upload": "public verification of a PDF, for machines without a session",
    "registers:api-root": "the registers' index; every query needs the client's token",
    "registers:openapi-json": "the registers' published description: inputs, outputs, legal "
    "basis and who may ask each query (the queries themselves need a token)",
}

SAMPLE_ARGS = {
    "id": "1",
    "int": "1",
    "str": "sample",
    "slug": "sample",
    "uuid": "0" * 32,
    "path": "x",
}


def _routes() -> Iterator[tuple[str, str]]:
    def walk(
        patterns: list[URLPattern | URLResolver], prefix: str, ns: str
    ) -> Iterator[tuple[str, str]]:
        for p in patterns:
            route = str(p.pattern)
            if isinstance(p, URLResolver):
                namespace = ns
                if p.namespace:
                    namespace = f"{ns}{p.namespace}:"
                yield from walk(p.url_patterns, prefix + route, namespace)
            else:
                name = f"{ns}{p.name}" if p.name else f"{ns}<unnamed {prefix + route}>"
                yield name, prefix + route

    yield from walk(get_resolver().url_patterns, "/", "")


def _concrete(route: str) -> str:
    route = route.lstrip("^").rstrip("$").replace("\\Z", "")
    return re.sub(
        r"<(?:(\w+):)?(\w+)>",
        lambda m: SAMPLE_ARGS.get(m.group(1) or "str", "sample"),
        route,
    )


ROUTES = sorted(set(_routes()))
GUARDED = [(n, r) for n, r in ROUTES if n not in PUBLIC and not r.startswith("/static/")]
OPEN = [(n, r) for n, r in ROUTES if n in PUBLIC]


def test_public_list_names_only_real_routes() -> None:
    names = {name for name, _route in ROUTES}
    assert set(PUBLIC) <= names, set(PUBLIC) - names


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "route"), GUARDED, ids=[n for n, _r in GUARDED])
def test_route_requires_authentication(name: str, route: str) -> None:
    url = _concrete(route)
    client = Client()
    answered = 0
    for method in ("get", "post", "delete"):
        response = getattr(client, method)(url)
        if response.status_code == 405:
            continue
        answered += 1
        refused = response.status_code in (401, 403) or (
            response.status_code == 302 and "/login/" in response["Location"]
        )
        assert refused, (
            f"{name} ({method.upper()} {url}) answered {response.status_code} "
            "to an anonymous caller"
        )
    assert answered, f"{name} ({url}) accepts none of GET, POST, DELETE"


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "route"), OPEN, ids=[n for n, _r in OPEN])
def test_public_route_serves_an_anonymous_caller(name: str, route: str) -> None:
    """Public means usable without logging in: no login wall and no server error."""
    url = _concrete(route)
    for method in ("get", "post"):
        response = getattr(Client(), method)(url)
        assert response.status_code < 500, f"{name} ({method.upper()} {url}) crashed"
        assert response.status_code not in (401, 403), f"{name} refused an anonymous caller"
        if response.status_code == 302:  # a login wall sends to /login/?next=…
            assert "/login/?next=" not in response["Location"], f"{name} sent to the login"
