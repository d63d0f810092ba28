"""The REST API at ``/api/v1/``: each bounded context adds its own router."""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI
from ninja.openapi.schema import OpenAPISchema

from salter.core import errors
from salter.core.params import TextParser
from salter.identity.auth import AUTH

# The errors every operation may answer, beside its own successes: all in the one error shape.
ERROR_STATUSES: dict[int, str] = {
    400: "The request cannot be read (bad JSON, a malformed header).",
    404: "No such object, or one the caller may not see.",
    413: "The request body is larger than the limit the message states.",
    422: "A parameter or a field is not valid; `details` lists `{field, message}`.",
    429: "Too many requests: wait the seconds in `Retry-After`.",
}
GUARDED_STATUSES: dict[int, str] = {
    401: "Not authenticated, or a higher level of assurance is needed.",
    403: "Authenticated, but not allowed (a role, a scope, the CSRF token).",
}
WRITE_STATUSES: dict[int, str] = {
    409: "The step was already taken, or the object changed meanwhile.",
}


class SalterAPI(NinjaAPI):
    """Describes, for every operation, the errors it may answer in the one error shape, so a
    client (and the generated API tests) knows each status it can get."""

    def get_openapi_schema(
        self,
        *,
        path_prefix: str | None = None,
        path_params: dict[str, Any] | None = None,
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = errors.ERROR_SCHEMA
        for operations in schema["paths"].values():
            for method, operation in operations.items():
                statuses = dict(ERROR_STATUSES)
                if operation.get("security"):
                    statuses |= GUARDED_STATUSES
                if method in {"post", "put", "patch", "delete"}:
                    statuses |= WRITE_STATUSES
                responses = operation.setdefault("responses", {})
                for status, description in sorted(statuses.items()):
                    responses.setdefault(
                        status,
                        {
                            "description": description,
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Error"}
                                }
                            },
                        },
                    )
        return schema


api = SalterAPI(
    auth=AUTH,
    title="Šalter API",
    version="1",
    description=(
        "Public-administration services. Authenticate with a session (browser) or an API "
        'token: `Authorization: Bearer slt_…`. Errors are `{"error": {"code", "message"}}`.'
    ),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
    parser=TextParser(),  # no NUL character reaches a model (salter.core.params)
)
errors.install(api)


def build() -> NinjaAPI:
    from salter.authorities.api import router as authorities_router
    from salter.cases.api import router as cases_router
    from salter.catalog.api import router as catalog_router
    from salter.documents.api import router as documents_router
    from salter.exchange.api import router as exchange_router
    from salter.identity.api import router as identity_router
    from salter.mailbox.api import router as mailbox_router
    from salter.payments.api import router as payments_router

    api.add_router("", identity_router)
    api.add_router("/authorities", authorities_router)
    api.add_router("/services", catalog_router)
    api.add_router("/cases", cases_router)
    api.add_router("/documents", documents_router)
    api.add_router("/mailbox", mailbox_router)
    api.add_router("/payments", payments_router)
    api.add_router("", exchange_router)
    return api
