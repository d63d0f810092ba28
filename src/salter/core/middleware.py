"""Request id, security headers, sr-Latn transliteration, and the API's errors and limits."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import structlog
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _

from salter.core import context, errors, ratelimit
from salter.core.translit import html_to_latin

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

Handler = Callable[[HttpRequest], HttpResponse]


class RequestContextMiddleware:
    """Give every request an id (or keep a well-formed one from the proxy) for logs and audit."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        tokens = context.bind_request(request_id, request.META.get("REMOTE_ADDR", ""))
        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            response = self.get_response(request)
        finally:
            structlog.contextvars.unbind_contextvars("request_id")
            context.unbind_request(tokens)
        response["X-Request-ID"] = request_id
        return response


class ApiErrorMiddleware:
    """Under ``/api/`` and ``/registers/`` every error answer is ``{"error": {...}}`` JSON
    (:func:`salter.core.errors.shaped`), whatever gave it: the URL resolver, ninja, Django's
    handlers for a bad ``Host`` or an exception. A body over its route's limit
    (:mod:`salter.core.body_limits`) is refused with 413 before anything reads it.

    Sits right after the language middleware, so messages are in the reader's language; what
    the middleware before it answers (none of which answers the API) keeps its own form."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not errors.is_api(request):
            return self.get_response(request)
        refused = errors.refuse_too_large(request)
        if refused is not None:
            return refused
        return errors.shaped(request, self.get_response(request))


class ApiRateLimitMiddleware:
    """Back-pressure on ``/api/``: 429 ``rate_limited`` with ``Retry-After`` once a client
    address or a bearer token is over its rate (:func:`salter.core.ratelimit.check_api`).
    Before the session and the token are looked at, so a refusal costs no query."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith("/api/"):
            refusal = ratelimit.check_api(request)
            if refusal is not None:
                return rate_limited(refusal)
        return self.get_response(request)


def rate_limited(refusal: ratelimit.Refusal) -> HttpResponse:
    if refusal.per == "token":
        message = _("Too many requests with this token. Try again in %(seconds)s s.")
    else:
        message = _("Too many requests from your network. Try again in %(seconds)s s.")
    return errors.json_error(
        429,
        "rate_limited",
        message % {"seconds": refusal.retry_after},
        {"limit": refusal.rate, "per": refusal.per, "retry_after": refusal.retry_after},
        {"Retry-After": str(refusal.retry_after)},
    )


CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# Swagger UI configures itself with an inline script.
CSP_DOCS = CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'").replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'"
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            docs = request.path.startswith("/api/v1/docs")
            response["Content-Security-Policy"] = CSP_DOCS if docs else CSP
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response


class TransliterationMiddleware:
    """Serve sr-Latn pages by rendering the Cyrillic page and transliterating it: our content,
    our interface and Django's own messages alike, so the two scripts never differ in wording.

    Sits right after LocaleMiddleware: inside it the request runs in ``sr``; on the way out
    ``sr-latn`` is active again for the Content-Language header."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if translation.get_language() != "sr-latn":
            return self.get_response(request)
        request.latin_script = True  # type: ignore[attr-defined]
        translation.activate("sr")
        try:
            response = self.get_response(request)
        finally:
            translation.activate("sr-latn")
        if (
            response.get("Content-Type", "").startswith("text/html")
            and not response.streaming
            and response.content
        ):
            charset = response.charset or "utf-8"
            response.content = html_to_latin(response.content.decode(charset)).encode(charset)
            if response.has_header("Content-Length"):  # set by CommonMiddleware, inside us
                response["Content-Length"] = str(len(response.content))
        return response
