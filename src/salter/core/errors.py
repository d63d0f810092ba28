"""One JSON shape for every API error: ``{"error": {"code", "message", "details"}}``.

Two layers keep that promise. :func:`install` gives a NinjaAPI handlers for what its routes
raise. :func:`shaped` (called by :class:`salter.core.middleware.ApiErrorMiddleware`) rewrites
any other error answer under :data:`PREFIXES` — Django's HTML 404 of an unknown path, ninja's
text 405, the 400 of a bad ``Host``, the 500 page — into the same shape, so a client parses
one shape whatever refused it. A 500 says only the request id, never the exception.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

import structlog
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from salter.core import body_limits
from salter.core.params import NOT_A_CHOICE, NOT_A_DATE, NOT_A_NUMBER, NOT_AN_ID, BadParameter


class ApiError(Exception):
    """Raised by API handlers for a refusal with a machine code and a human message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return {"error": body}


def invalid_fields(details: list[dict[str, Any]]) -> ApiError:
    """422 ``validation_error``: ``details`` lists ``{field, message}``."""
    return ApiError(422, "validation_error", _("Some fields are not valid."), details)


def schema_details(found: list[Any]) -> list[dict[str, Any]]:
    """pydantic's errors as ``{field, message}``, each message a sentence in the reader's
    language where the kind of error is one people meet (pydantic's English otherwise)."""
    return [
        {"field": ".".join(str(part) for part in error.get("loc", [])), "message": _said(error)}
        for error in found
    ]


_NUMBER_ERRORS = {
    "int_parsing",
    "int_type",
    "int_from_float",
    "less_than_equal",
    "greater_than_equal",
    "less_than",
    "greater_than",
}


def _said(error: Any) -> str:
    kind = error.get("type", "")
    where = error.get("loc", ("",))[0]
    limits = error.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind in _NUMBER_ERRORS:
        return str(NOT_AN_ID if where == "path" else NOT_A_NUMBER)
    if kind in {"enum", "literal_error"}:
        return str(NOT_A_CHOICE)
    if kind in {"date_parsing", "date_from_datetime_parsing", "date_type"}:
        return str(NOT_A_DATE)
    if kind == "string_too_long" and "max_length" in limits:
        return _("Enter at most %(n)s characters.") % {"n": limits["max_length"]}
    if kind == "string_too_short" and "min_length" in limits:
        return _("Enter at least %(n)s characters.") % {"n": limits["min_length"]}
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return _("The value is not of the expected kind.")
    return str(error.get("msg", ""))


# The shape of every error, as the OpenAPI documents describe it (docs/api.md).
ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "A stable machine code."},
                "message": {"type": "string", "description": "For people, in their language."},
                "details": {"description": "More about the error, when there is more."},
            },
        }
    },
}


log = structlog.get_logger(__name__)

# Where answers are JSON: the platform's API and the demo registers' (same shape, docs/api.md).
PREFIXES = ("/api/", "/registers/")

# The code of an error answer that says no more than its status.
STATUS_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "request_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}

# ninja's message when its parser fails on the body (ninja.params.models.BodyModel).
_NINJA_UNPARSED = "Cannot parse request body"

# Headers of the original answer that the rewritten one keeps.
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate", "Vary", "Content-Language")


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(PREFIXES)


def json_error(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> JsonResponse:
    response = JsonResponse(error_body(code, message, details), status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _content_length(request: HttpRequest) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def request_too_large(size: int, limit: int) -> JsonResponse:
    """413 ``request_too_large`` naming the limit (the shape of
    :func:`salter.core.upload_limits.too_large`, for bodies refused before any route runs)."""
    return json_error(
        413,
        "request_too_large",
        body_limits.too_large_message(size, limit),
        {"size_bytes": size, "limit_bytes": limit},
    )


def refuse_too_large(request: HttpRequest) -> JsonResponse | None:
    """413 before anything reads the body, when ``Content-Length`` is over the route's limit
    (:func:`salter.core.body_limits.for_request`: ``DATA_UPLOAD_MAX_MEMORY_SIZE`` unless the
    route declares its own, read now since settings may change). Multipart bodies are left to
    Django and to the routes that take files: files do not count towards that limit."""
    if request.content_type == "multipart/form-data":
        return None
    limit = body_limits.for_request(request)
    size = _content_length(request)
    return request_too_large(size, limit) if limit is not None and size > limit else None


def _generic_message(request: HttpRequest, response: HttpResponse, status: int) -> str:
    if status == 404:
        return _("There is nothing at this address.")
    if status == 405:
        return _("This address does not take %(method)s; it takes %(allowed)s.") % {
            "method": request.method,
            "allowed": response.get("Allow", ""),
        }
    if status == 400:
        return _("The request is not well formed.")
    if status == 403:
        return _("This is not allowed.")
    if status >= 500:
        return _(
            "Something went wrong on our side. If it happens again, tell us the request id "
            "%(request_id)s."
        ) % {"request_id": getattr(request, "request_id", "")}
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return _("The request was refused.")


def _in_shape(response: HttpResponse) -> bool:
    if not response.get("Content-Type", "").startswith("application/json"):
        return False
    try:
        body = json.loads(response.content)
    except ValueError:
        return False
    return isinstance(body, dict) and isinstance(body.get("error"), dict)


def shaped(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """``response`` if it is not an error or already in the shape; else the same status in
    the shape. A 5xx is always replaced: its body may hold what went wrong."""
    status = response.status_code
    if status < 400 or getattr(response, "streaming", False):
        return response
    if status < 500 and _in_shape(response):
        return response
    details: dict[str, Any] | None = None
    if status == 405:
        # ninja lists the methods from a set: in a stable order for caches and tests.
        allowed = sorted(m.strip() for m in response.get("Allow", "").split(",") if m.strip())
        response["Allow"] = ", ".join(allowed)
        details = {"allowed": allowed}
    elif status >= 500:
        details = {"request_id": getattr(request, "request_id", "")}
    shaped_response = json_error(
        status,
        STATUS_CODES.get(status, "internal_error" if status >= 500 else "error"),
        _generic_message(request, response, status),
        details,
        {name: response[name] for name in KEPT_HEADERS if response.has_header(name)},
    )
    for cookie in response.cookies.values():  # a session or CSRF cookie set on the way
        shaped_response.cookies[cookie.key] = cookie
    return shaped_response


def install(api: NinjaAPI) -> None:
    @api.exception_handler(ApiError)
    def on_api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
        response = api.create_response(
            request, error_body(exc.code, exc.message, exc.details), status=exc.status
        )
        for name, value in exc.headers.items():
            response[name] = value
        return response

    @api.exception_handler(ValidationError)
    def on_validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        return on_api_error(request, invalid_fields(schema_details(list(exc.errors))))

    @api.exception_handler(BadParameter)
    def on_bad_parameter(request: HttpRequest, exc: BadParameter) -> HttpResponse:
        """A parameter read by the handler through :mod:`salter.core.params`: the same 422
        as one pydantic refused."""
        return on_api_error(
            request, invalid_fields([{"field": exc.name, "message": str(exc.message)}])
        )

    @api.exception_handler(AuthenticationError)
    def on_auth(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = api.create_response(
            request,
            error_body(
                "not_authenticated",
                "Log in, or send a valid API token as 'Authorization: Bearer <token>'.",
            ),
            status=401,
        )
        response["WWW-Authenticate"] = 'Bearer realm="salter"'
        return response

    @api.exception_handler(HttpError)
    def on_http(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if exc.status_code == 400 and str(exc).startswith(_NINJA_UNPARSED):
            # ninja's parser reads JSON only: a body it cannot parse is not JSON.
            return api.create_response(
                request,
                error_body("invalid_json", _("The request body is not valid JSON.")),
                status=400,
            )
        return api.create_response(
            request,
            error_body(STATUS_CODES.get(exc.status_code, "error"), str(exc)),
            status=exc.status_code,
        )

    @api.exception_handler(RequestDataTooBig)
    def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        # Django's parser of a multipart body: its fields (not its files) are over the limit.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
        return request_too_large(_content_length(request), limit)

    @api.exception_handler(SuspiciousOperation)
    def on_suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
        # Logged as Django logs it (django.security.<name>); the client learns no more.
        log.warning("suspicious_operation", kind=type(exc).__name__, path=request.path)
        return api.create_response(
            request,
            error_body("bad_request", _("The request is not well formed.")),
            status=400,
        )

    @api.exception_handler(Http404)
    def on_404(request: HttpRequest, exc: Http404) -> HttpResponse:
        return api.create_response(request, error_body("not_found", "No such object."), status=404)
