from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from salter.catalog import definitions


@require_GET
@cache_control(public=True, max_age=3600)
def definition_schema_v1(request: HttpRequest) -> HttpResponse:
    """The meta-schema of service definitions, at a URL that never changes (a new format gets
    a new URL: ``v2.json``)."""
    return HttpResponse(
        definitions.SCHEMA_PATH.read_bytes(), content_type="application/schema+json"
    )
