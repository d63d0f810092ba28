from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods

from salter.catalog import definitions
from salter.catalog.forms import ServiceForm
from salter.catalog.models import ServiceVersion
from salter.core import params
from salter.core.context import Actor
from salter.identity import loa
from salter.identity.permissions import require_platform_admin


@require_GET
@cache_control(public=True, max_age=3600)
def definition_schema_v1(request: HttpRequest) -> HttpResponse:
    """The meta-schema of service definitions, at a URL that never changes (a new format gets
    a new URL: ``v2.json``)."""
    return HttpResponse(
        definitions.SCHEMA_PATH.read_bytes(), content_type="application/schema+json"
    )


PREVIEW_SESSION_KEY = "catalog_preview"


@loa.require_level(loa.TWO_FACTOR)
@require_http_methods(["GET", "POST"])
def preview(request: HttpRequest, service_id: int, number: int) -> HttpResponse:
    """The service generator's live preview: the form of a version exactly as the applicant
    will see it, step by step with the server's validation. Nothing is saved but the answers
    so far, in the session under a preview key, so that an administrator can step back and
    forth. Only a platform administrator or an administrator of the service's authority."""
    version = get_object_or_404(
        ServiceVersion.objects.select_related("service__authority"),
        service_id=service_id,
        number=number,
    )
    service = version.service
    require_platform_admin(Actor.from_request(request), or_authority_admin_of=service.authority)
    path = request.path
    context: dict[str, Any] = {
        "service": service,
        "version": version,
        "reset_action": path,
        "summary": None,
    }
    problems = definitions.validate(version.definition)
    if problems:
        context["problems"] = problems
        return render(request, "catalog/preview.html", context)

    form = ServiceForm(version.definition)
    key = f"{PREVIEW_SESSION_KEY}:{version.pk}"
    data: dict[str, Any] = dict(request.session.get(key, {}))
    requested = params.text(request.GET, "step", max_length=20)

    def show(number: int, errors: Mapping[str, str] | None = None, raw: Any = None) -> HttpResponse:
        context["step"] = form.render(number, data, errors, raw)
        context["action"] = f"{path}?step={number}"
        return render(request, "catalog/preview.html", context)

    def go(step: int | str) -> HttpResponse:
        request.session[key] = data
        return redirect(f"{path}?step={step}")

    if request.method == "POST":
        action = params.text(request.POST, "action", max_length=20, default="next")
        if action == "reset":
            request.session.pop(key, None)
            return redirect(path)
        current = form.step_number(requested)
        files = {name: getattr(upload, "name", "") for name, upload in request.FILES.items()}
        cleaned = form.clean_step(current, request.POST, data, files)
        for name in form.ui_steps[current - 1]["fields"]:
            data.pop(name, None)
        data.update(cleaned.data)
        if action == "back":  # keep what is valid, complain about nothing
            return go(max(current - 1, 1))
        if not cleaned.ok:
            request.session[key] = data
            return show(current, cleaned.errors, cleaned.raw)
        if current < form.count:
            return go(current + 1)
        return go("done")

    if requested == "done":
        whole = form.validate(data)
        if not whole.ok:  # e.g. a field waiting on a later answer: back to the first problem
            return show(form.first_step_with_error(whole.errors), whole.errors)
        context["summary"] = form.summary(whole.data)
        return render(request, "catalog/preview.html", context)
    return show(form.step_number(requested))
