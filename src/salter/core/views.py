from __future__ import annotations

from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from salter.authorities import queries as authority_queries
from salter.catalog import queries as catalog_queries
from salter.core import params
from salter.identity.models import User

_migrations_checked = False


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Touches no database, so a slow database never kills it."""
    return JsonResponse({"status": "ok"})


def _pending_migrations() -> int:
    executor = MigrationExecutor(connection)
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: the database answers and every migration is applied."""
    global _migrations_checked
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        if not _migrations_checked:
            pending = _pending_migrations()
            if pending:
                return JsonResponse(
                    {"status": "unavailable", "reason": f"{pending} migrations not applied"},
                    status=503,
                )
            _migrations_checked = True
    except DatabaseError as exc:
        return JsonResponse(
            {"status": "unavailable", "reason": f"database: {exc.__class__.__name__}"}, status=503
        )
    return JsonResponse({"status": "ok", "database": connection.vendor})


def home(request: HttpRequest) -> HttpResponse:
    groups = authority_queries.public_directory(catalog_queries.offered_services_prefetch())
    return render(request, "core/home.html", {"groups": groups})


def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch, which also remembers the choice on a logged-in user's account:
    e-mails and other notifications are written in the language the user last chose."""
    from django.conf import settings
    from django.views.i18n import set_language as switch

    response = switch(request)
    language = params.text(request.POST, "language", max_length=20)
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and language in dict(settings.LANGUAGES):
        User.objects.filter(pk=user.pk).exclude(language=language).update(language=language)
    return response
