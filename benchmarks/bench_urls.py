"""Šalter's URLs plus ``POST /bench/api/ping``: the ceiling of the submission benchmark.

The endpoint does what every API write does around its work — django-ninja parses and
validates a JSON body, the same token authentication (``Authorization: Bearer slt_…``) and
``write`` scope check as ``POST /api/v1/cases`` — and then inserts one row into
``bench_ping``, a table that ``benchmarks/cases.sh`` creates, in autocommit. So the ratio
submissions/s ÷ pings/s is the share of the ceiling that registering a case leaves.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.http import HttpRequest
from django.urls import path
from ninja import NinjaAPI, Schema

from salter.core import errors
from salter.identity import auth
from salter.urls import urlpatterns as salter_urlpatterns

ping_api = NinjaAPI(
    auth=auth.AUTH, urls_namespace="bench", title="bench", docs_url=None, openapi_url=None
)
errors.install(ping_api)


class PingIn(Schema):
    key: str


class PingOut(Schema):
    id: int


@ping_api.post("/ping", response={201: PingOut})
def ping(request: HttpRequest, body: PingIn) -> tuple[int, dict[str, Any]]:
    auth.require_scope(request, "write")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_ping (user_id, key) VALUES (%s, %s) RETURNING id",
            [request.user.pk, body.key],
        )
        row = cursor.fetchone()
    return 201, {"id": row[0]}


urlpatterns = [path("bench/api/", ping_api.urls), *salter_urlpatterns]
