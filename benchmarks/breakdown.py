"""Where the CPU time of ``GET /api/v1/me`` goes, measured in one process without a server.

Run after ``make benchmark`` (it reuses the salter_bench database and var/bench/fixtures.json):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/salter_bench SALTER_VAR_DIR=var/bench \\
        .venv/bin/python benchmarks/breakdown.py

Each figure is the median, over interleaved rounds, of the process CPU time per call (the
PostgreSQL server's own CPU time is not included). Requests go through Django's WSGI handler
with the full middleware stack, as gunicorn would call it, without sockets.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salter.settings.dev")
os.environ.setdefault("SALTER_RATE_LIMITS", "0")  # one address makes all the calls

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.http import HttpRequest  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django_otp import DEVICE_ID_SESSION_KEY  # noqa: E402
from django_otp.models import Device  # noqa: E402
from django_otp.oath import totp  # noqa: E402

from salter.identity import services  # noqa: E402
from salter.identity.models import Membership  # noqa: E402

HOST = "127.0.0.1"


def environ(path: str, headers: dict[str, str]) -> dict[str, Any]:
    env: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": HOST,
        "SERVER_PORT": "80",
        "HTTP_HOST": HOST,
        "REMOTE_ADDR": HOST,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
    }
    env.update(headers)
    return env


def requester(app: WSGIHandler, path: str, headers: dict[str, str], status: str) -> Callable:
    def call() -> None:
        seen: list[str] = []
        body = app(environ(path, headers), lambda s, h, e=None: seen.append(s))
        b"".join(body)
        body.close()  # type: ignore[attr-defined]
        assert seen[0].startswith(status), (path, seen[0])

    return call


def measure(cases: dict[str, Callable[[], Any]], rounds: int, calls: int) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _round in range(rounds):
        for name, case in cases.items():
            for _i in range(calls // 10):
                case()
            started = time.process_time()
            for _i in range(calls):
                case()
            samples[name].append(1000 * (time.process_time() - started) / calls)
    return {name: statistics.median(values) for name, values in samples.items()}


def login(user: dict[str, Any], password: str) -> str:
    client = Client(SERVER_NAME=HOST)
    response = client.post("/login/", {"username": user["email"], "password": password})
    assert response.status_code == 302, response.status_code
    code = f"{totp(bytes.fromhex(user['totp_key'])):06d}"
    response = client.post("/login/verify/", {"code": code})
    assert response.status_code == 302, "TOTP step refused: rerun in the next 30 seconds"
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", type=Path, default=Path("var/bench/fixtures.json"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--user", type=int, default=-1, help="index of a seeded user to log in")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the 401 case logs a warning per request
    fixtures = json.loads(args.fixtures.read_text())
    secret = fixtures["users"][0]["token"]
    session_key = login(fixtures["users"][args.user], fixtures["password"])
    cookie = f"{settings.SESSION_COOKIE_NAME}={session_key}"
    token = services.authenticate_token(secret)
    assert token is not None
    user_id = token.user_id
    session = SessionStore(session_key)
    persistent_id = session[DEVICE_ID_SESSION_KEY]

    def user_from_session() -> Any:
        request = HttpRequest()
        request.session = SessionStore(session_key)
        return get_user(request)

    app = WSGIHandler()
    cases: dict[str, Callable[[], Any]] = {
        "GET /healthz (full middleware stack, no database)": requester(app, "/healthz", {}, "200"),
        "GET /api/v1/me anonymous (ninja routing, 401)": requester(app, "/api/v1/me", {}, "401"),
        "GET /api/v1/me Bearer": requester(
            app, "/api/v1/me", {"HTTP_AUTHORIZATION": f"Bearer {secret}"}, "200"
        ),
        "GET /api/v1/me session LoA 2": requester(
            app, "/api/v1/me", {"HTTP_COOKIE": cookie}, "200"
        ),
        "  token lookup (services.authenticate_token)": lambda: services.authenticate_token(secret),
        "  memberships query (values_list)": lambda: list(
            Membership.objects.filter(user_id=user_id).values_list(
                "unit__authority__code", "unit__code", "role"
            )
        ),
        "  memberships query (select_related models, before)": lambda: [
            (m.unit.authority.code, m.unit.code, m.role)
            for m in Membership.objects.filter(user_id=user_id).select_related("unit__authority")
        ],
        "  session load (django_session)": lambda: SessionStore(session_key).load(),
        "  session load + user (auth.get_user)": user_from_session,
        "  OTP device (Device.from_persistent_id)": lambda: Device.from_persistent_id(
            persistent_id
        ),
    }
    figures = measure(cases, args.rounds, args.calls)

    # Each middleware's share: the ceiling without it (only those a bare request can skip).
    skippable = [
        "salter.core.middleware.RequestContextMiddleware",
        "django.middleware.security.SecurityMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",
        "django.middleware.locale.LocaleMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "salter.identity.middleware.SessionPolicyMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
        "salter.core.middleware.SecurityHeadersMiddleware",
        "salter.core.middleware.TransliterationMiddleware",
        "axes.middleware.AxesMiddleware",
    ]
    without: dict[str, Callable[[], Any]] = {}
    for name in [*skippable, None]:
        stack = [m for m in settings.MIDDLEWARE if m != name]
        with override_settings(MIDDLEWARE=stack):
            bare = WSGIHandler()
        without[name or "all"] = requester(bare, "/healthz", {}, "200")
    ceiling = measure(without, args.rounds, args.calls)

    print("| what | CPU ms per call |")
    print("|---|---:|")
    for name, value in figures.items():
        print(f"| {name} | {value:.3f} |")
    print()
    print("| middleware (GET /healthz) | CPU ms per request |")
    print("|---|---:|")
    for name in skippable:
        print(f"| {name.rsplit('.', 1)[-1]} | {ceiling['all'] - ceiling[name]:.3f} |")


if __name__ == "__main__":
    main()
