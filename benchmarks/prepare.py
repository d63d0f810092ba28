"""Seed the benchmark database and count the SQL queries of ``GET /api/v1/me``.

Run by ``benchmarks/run.sh`` against a fresh PostgreSQL database (``DATABASE_URL``), with the
server's own settings (``salter.settings.dev``, argon2 passwords). Writes a JSON file that the load
generator reads: the users' e-mail addresses, their TOTP keys and the API token secrets.

    python benchmarks/prepare.py --users 400 --tokens 16 --out var/bench/fixtures.json

The users are citizens with a verified address, one TOTP device each (added through
``services.confirm_totp``, which also issues recovery codes) and, for the first ``--tokens`` of
them, a read-only API token (``services.create_api_token``). Every user has the same password;
its argon2 hash is computed once with the production parameters and copied, because hashing it
400 times would take most of a minute. Logins still verify the full argon2 hash.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salter.settings.dev")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_otp.oath import totp  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from salter.core.context import Actor  # noqa: E402
from salter.identity import services  # noqa: E402
from salter.identity.models import User  # noqa: E402

PASSWORD = "bench-Password-2026!"  # noqa: S105 — a throwaway benchmark database
HOST = "127.0.0.1"


def email_of(i: int) -> str:
    return f"bench-{i:05d}@bench.salter.test"


def code_for(key_hex: str) -> str:
    return f"{totp(bytes.fromhex(key_hex)):06d}"


def seed(n_users: int, n_tokens: int) -> dict[str, Any]:
    if User.objects.filter(email__endswith="@bench.salter.test").exists():
        raise SystemExit("The benchmark database is not empty; run.sh recreates it.")
    started = time.perf_counter()
    encoded = make_password(PASSWORD)  # argon2id, Django's production parameters
    now = timezone.now()
    users = User.objects.bulk_create(
        [
            User(
                email=email_of(i),
                full_name=f"Бенч Корисник {i}",
                password=encoded,
                email_verified_at=now,
            )
            for i in range(n_users + 1)  # user 0 is reserved for the query count
        ]
    )
    records: list[dict[str, Any]] = []
    for i, user in enumerate(users):
        actor = Actor(user=user, via="bench")
        key = services.new_totp_key()
        services.confirm_totp(actor, key=key, code=code_for(key), name="bench")
        record: dict[str, Any] = {"email": user.email, "totp_key": key, "token": None}
        if 1 <= i <= n_tokens:
            _token, secret = services.create_api_token(
                actor, name="bench", scopes=["read"], days=30, loa=2
            )
            record["token"] = secret
        records.append(record)
    # confirm_totp consumed the current time step on every device; forget it so that the
    # benchmark may log in within the same 30 seconds. Drift stays 0.
    TOTPDevice.objects.filter(user__in=users).update(last_t=-1)
    return {
        "password": PASSWORD,
        "query_user": records[0],
        "users": records[1:],
        "seconds": round(time.perf_counter() - started, 1),
        "password_hasher": settings.PASSWORD_HASHERS[0].rsplit(".", 1)[-1],
    }


def _captured(client: Client, path: str, **extra: Any) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, **extra)
    assert response.status_code == 200, (path, response.status_code, response.content[:300])
    return len(ctx.captured_queries), [q["sql"] for q in ctx.captured_queries]


def count_queries(fixtures: dict[str, Any]) -> dict[str, Any]:
    """Count the queries of GET /api/v1/me with the Django test client on the same database."""
    out: dict[str, Any] = {}
    token = fixtures["users"][0]["token"]
    client = Client(SERVER_NAME=HOST)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    out["bearer_first"], _sql = _captured(client, "/api/v1/me", **bearer)
    out["bearer"], out["bearer_sql"] = _captured(client, "/api/v1/me", **bearer)

    # A session at level 2: password, then the TOTP code, as a browser does.
    user = fixtures["query_user"]
    client = Client(SERVER_NAME=HOST)
    response = client.post(
        "/login/", {"username": user["email"], "password": fixtures["password"], "next": "/"}
    )
    assert response.status_code == 302, response.content[:500]
    response = client.post("/login/verify/", {"code": code_for(user["totp_key"]), "next": "/"})
    assert response.status_code == 302, response.content[:500]
    out["session_first"], _sql = _captured(client, "/api/v1/me")
    out["session"], out["session_sql"] = _captured(client, "/api/v1/me")
    body = client.get("/api/v1/me").json()
    assert body["level_of_assurance"] == 2 and body["authenticated_by"] == "session", body
    # The login's TOTP step on this device is used; the load generator never uses user 0.
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=400)
    parser.add_argument("--tokens", type=int, default=16)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if not 1 <= args.tokens <= args.users <= 100_000:
        raise SystemExit("need 1 <= --tokens <= --users <= 100000")
    if connection.vendor != "postgresql":
        raise SystemExit(f"DATABASE_URL must point at PostgreSQL, not {connection.vendor}")
    fixtures = seed(args.users, args.tokens)
    fixtures["queries"] = count_queries(fixtures)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(fixtures, indent=1))
    q = fixtures["queries"]
    print(
        f"seeded {args.users} users ({args.tokens} with API tokens) in {fixtures['seconds']} s;"
        f" GET /api/v1/me queries: bearer {q['bearer']} (first use {q['bearer_first']}),"
        f" session {q['session']} (first request after login {q['session_first']})",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
