from __future__ import annotations

import structlog
from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET

from salter.authorities import queries as authority_queries
from salter.catalog import queries as catalog_queries
from salter.core import params
from salter.core.context_processors import HTML_LANG
from salter.core.translit import to_latin
from salter.identity.models import User

log = structlog.get_logger(__name__)

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


# --- Public pages linked from every page's footer -----------------------------------------------


@require_GET
def help_page(request: HttpRequest) -> HttpResponse:
    return render(request, "core/help.html", {"contact_email": settings.SALTER_CONTACT_EMAIL})


@require_GET
def accessibility(request: HttpRequest) -> HttpResponse:
    return render(
        request, "core/accessibility.html", {"contact_email": settings.SALTER_CONTACT_EMAIL}
    )


@require_GET
def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "core/privacy.html", {"contact_email": settings.SALTER_CONTACT_EMAIL})


@require_GET
@cache_control(max_age=86400, public=True)
def manifest(request: HttpRequest) -> JsonResponse:
    """The web app manifest, so the site installs as an app on a phone. A view, not a static
    file, so that the icons' addresses are the hashed ones the static storage serves."""
    name = _("Šalter — public services in one place")
    short_name = _("Šalter")
    language = getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE)
    if getattr(request, "latin_script", False):  # JSON is not transliterated on the way out
        name, short_name, language = to_latin(name), to_latin(short_name), "sr-latn"
    body = {
        "name": name,
        "short_name": short_name,
        "lang": HTML_LANG.get(language, language),
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b4f8a",
        "icons": [
            {"src": static("salter/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
            {"src": static("salter/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("salter/icon-512.png"), "sizes": "512x512", "type": "image/png"},
        ],
    }
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    return response


# --- Error pages (handler400/403/404/500 in salter.urls) ----------------------------------------
# In the reader's language, on the site's layout, saying what happened and what to do. They never
# show what went wrong inside: a 500 gives the request id, which finds the details in our logs.
# Under /api/ and /registers/ ApiErrorMiddleware replaces these pages with JSON.


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "400.html", status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """The site's 500 page; if even that fails (the database is what broke, and the layout asks
    it who is logged in), a page that needs nothing but the templates."""
    request_id = getattr(request, "request_id", "")
    try:
        return render(request, "500.html", {"request_id": request_id}, status=500)
    except Exception:  # noqa: BLE001 — the page of last resort must not fail in its turn
        log.exception("error_page_failed", request_id=request_id)
        language = getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE)
        if getattr(request, "latin_script", False):
            language = "sr-latn"
        page = render_to_string(
            "500_plain.html",
            {"request_id": request_id, "html_lang": HTML_LANG.get(language, language)},
        )
        return HttpResponseServerError(page)
