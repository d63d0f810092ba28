"""One JSON shape for every API error: ``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError


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
        details = [
            {"field": ".".join(str(p) for p in err.get("loc", [])), "message": err.get("msg")}
            for err in exc.errors
        ]
        return api.create_response(
            request,
            error_body("validation_error", "Some fields are not valid.", details),
            status=422,
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
        codes = {403: "forbidden", 404: "not_found", 405: "method_not_allowed", 409: "conflict"}
        return api.create_response(
            request,
            error_body(codes.get(exc.status_code, "error"), str(exc)),
            status=exc.status_code,
        )

    from django.http import Http404

    @api.exception_handler(Http404)
    def on_404(request: HttpRequest, exc: Http404) -> HttpResponse:
        return api.create_response(request, error_body("not_found", "No such object."), status=404)
