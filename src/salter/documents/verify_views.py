"""The public verification pages, where the QR code of every document leads.

* ``/verify/`` — type the code printed under the QR code, choose the PDF, or both.
* ``/verify/<code>/`` — what is registered under the code and the signatures of the registered
  file; a copy posted here is checked and compared with it byte for byte.
* ``/verify/<code>/document.pdf`` — the registered file, written to the audit chain.

No login. CSRF as on every page (a public form is still a form). Lookups, uploads and
downloads are rate limited per client (:mod:`salter.core.ratelimit`); search engines are asked
not to index any of it (a document's subject may name a person).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from salter.core import params, ratelimit
from salter.documents import public, uploads
from salter.documents.services import normalise_code

View = Callable[..., HttpResponseBase]
CODE_EXAMPLE = "7KQ2-M9XD-4TRA"


def _unindexed(view: View) -> View:
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return wrapped


def _limited(request: HttpRequest) -> HttpResponse | None:
    """The 429 page once this client is over ``SALTER_VERIFY_RATE``, else ``None``."""
    decision = ratelimit.hit(public.RATE_SCOPE, ratelimit.client_of(request), public.rate())
    if decision.allowed:
        return None
    response = render(
        request,
        "documents/verify/too_many.html",
        {"seconds": decision.retry_after},
        status=429,
    )
    response["Retry-After"] = str(decision.retry_after)
    return response


def _max_mb() -> int:
    return uploads.max_bytes() // (1024 * 1024)


def _start_page(
    request: HttpRequest,
    *,
    typed: str = "",
    errors: dict[str, str] | None = None,
    not_found: bool = False,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "documents/verify/start.html",
        {
            "typed": typed[:100],
            "errors": errors or {},
            "not_found": not_found,
            "example": CODE_EXAMPLE,
            "max_mb": _max_mb(),
        },
        status=status,
    )


def _document_page(
    request: HttpRequest,
    registered: public.Registered,
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "documents/verify/document.html",
        {
            "registered": registered,
            "document": registered.document,
            "version": registered.current,
            "check": public.check_registered(registered),
            "errors": errors or {},
            "max_mb": _max_mb(),
        },
        status=status,
    )


def _result_page(request: HttpRequest, result: public.UploadCheck) -> HttpResponse:
    return render(request, "documents/verify/result.html", {"result": result})


def _bad_code() -> str:
    return _(
        "This is not a verification code. It has twelve letters and digits, "
        "for example %(example)s."
    ) % {"example": CODE_EXAMPLE}


@_unindexed
@require_http_methods(["GET", "POST"])
def start(request: HttpRequest) -> HttpResponseBase:
    """The form. A code alone leads to its page; a file (with or without a code) is checked."""
    if request.method == "GET":
        typed = params.text(request.GET, "code", max_length=100).strip()
        if not typed:
            return _start_page(request)
        code = normalise_code(typed)
        if code:
            return redirect("verify:code", code=code)
        return _start_page(request, typed=typed, errors={"code": _bad_code()}, status=400)

    typed = params.text(request.POST, "code", max_length=100).strip()
    code = normalise_code(typed) if typed else ""
    upload = request.FILES.get("file")
    errors: dict[str, str] = {}
    if typed and not code:
        errors["code"] = _bad_code()
    if upload is None:
        if code:
            return redirect("verify:code", code=code)
        if not typed:
            errors["code"] = _(
                "Type the code printed under the QR code, or choose the document's PDF file."
            )
        return _start_page(request, typed=typed, errors=errors, status=400)
    limited = _limited(request)
    if limited is not None:
        return limited
    registered = None
    if code:
        registered = public.find(code)
        if registered is None:
            errors["code"] = _(
                "No document is registered under this code. Check it, or leave the code "
                "empty to check only the file."
            )
    try:
        checked = public.read_pdf(upload)
    except public.Refused as exc:
        errors["file"] = exc.message
    if errors:
        return _start_page(request, typed=typed, errors=errors, status=400)
    return _result_page(request, public.check_upload(checked, registered))


@_unindexed
@require_http_methods(["GET", "POST"])
def by_code(request: HttpRequest, code: str) -> HttpResponseBase:
    """What is registered under ``code``; a posted copy is checked against it."""
    canonical = normalise_code(code)
    if canonical and canonical != code and request.method == "GET":
        return redirect("verify:code", code=canonical)
    limited = _limited(request)
    if limited is not None:
        return limited
    registered = public.find(canonical) if canonical else None
    if registered is None:
        return _start_page(request, typed=code, not_found=True, status=404)
    if request.method == "GET":
        return _document_page(request, registered)
    upload = request.FILES.get("file")
    if upload is None:
        return _document_page(
            request, registered, errors={"file": _("Choose the PDF file to check.")}, status=400
        )
    try:
        checked = public.read_pdf(upload)
    except public.Refused as exc:
        return _document_page(request, registered, errors={"file": exc.message}, status=400)
    return _result_page(request, public.check_upload(checked, registered))


@_unindexed
@require_GET
def download(request: HttpRequest, code: str) -> HttpResponseBase:
    """The registered PDF as an attachment; each download is in the audit chain."""
    limited = _limited(request)
    if limited is not None:
        return limited
    registered = public.find(code)
    if registered is None or not registered.downloadable:
        return _start_page(request, typed=code, not_found=True, status=404)
    handle, version = public.open_for_download(registered)
    name = version.original_name or f"{registered.document.verification_code}.pdf"
    if not name.lower().endswith(".pdf"):
        name += ".pdf"
    response = FileResponse(handle, as_attachment=True, filename=name, content_type=uploads.PDF)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response
