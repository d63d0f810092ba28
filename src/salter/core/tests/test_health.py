from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client


@pytest.mark.django_db
def test_healthz_answers_without_the_database(
    client: Client, django_assert_num_queries: object
) -> None:
    with django_assert_num_queries(0):  # type: ignore[operator]
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_checks_database_and_migrations(client: Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": connection.vendor}


@pytest.mark.django_db(transaction=True)
def test_readyz_reports_unapplied_migrations(client: Client) -> None:
    from django.core.management import call_command

    from salter.core import views

    views._migrations_checked = False
    call_command("migrate", "authorities", "zero", verbosity=0)
    try:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert "migrations not applied" in response.json()["reason"]
    finally:
        call_command("migrate", verbosity=0)
        views._migrations_checked = False


def test_every_response_carries_a_request_id_and_security_headers(client: Client) -> None:
    response = client.get("/healthz", HTTP_X_REQUEST_ID="proxy-given-id-123")
    assert response["X-Request-ID"] == "proxy-given-id-123"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    bogus = client.get("/healthz", HTTP_X_REQUEST_ID="<script>")
    assert bogus["X-Request-ID"] != "<script>" and len(bogus["X-Request-ID"]) == 32
