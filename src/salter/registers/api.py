"""The registers' HTTP API at ``/registers/``: one ``POST /registers/<register>/<query>`` per
query of the catalogue, described in ``/registers/openapi.json``.

A separate NinjaAPI from the platform's ``/api/v1/``: another service with its own clients
and tokens, which only shares the deployment. Handlers read the body as raw bytes and return
raw bytes (:func:`salter.registers.services.serve`), because the hashes exchanged are over
the exact bytes; so the schemas below document the protocol rather than parse it.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.openapi.schema import OpenAPISchema
from ninja.security import HttpBearer

from salter.core import errors
from salter.registers import services
from salter.registers.catalogue import QUERIES, Field, Query
from salter.registers.models import RegisterClient


class ClientToken(HttpBearer):
    """Documents the bearer token in the OpenAPI description. It lets every request through:
    :func:`~salter.registers.services.serve` checks the token itself, so that a request with
    no token or a wrong one is logged like any other refusal."""

    openapi_description = "The client's token from the register: `Bearer reg_…`."

    def __call__(self, request: HttpRequest) -> Any:
        return True

    def authenticate(self, request: HttpRequest, token: str) -> Any:  # pragma: no cover
        return True


class RegistersApi(NinjaAPI):
    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        """The static description plus, per query, the clients allowed to ask it now."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        allowed: dict[str, list[dict[str, str]]] = {code: [] for code in QUERIES}
        clients = RegisterClient.objects.filter(revoked_at__isnull=True).order_by("name", "id")
        for client in clients:
            for code in client.queries:
                if code in allowed:
                    allowed[code].append({"name": client.name, "authority": client.authority})
        for path, item in schema["paths"].items():
            post = item.get("post", {})
            code = post.get("x-query")
            if code in allowed:
                schema["paths"][path]["post"]["x-clients"] = allowed[code]
        return schema


api = RegistersApi(
    auth=ClientToken(),
    title="Šalter demo registers",
    version="1",
    description=(
        "The civil registry, the residence register and the local tax records of the demo, "
        "served as data services (protocol: docs/exchange.md). Each request is canonical "
        "JSON; each response carries `X-Salter-Request-Hash` (SHA-256 of the request's bytes) "
        "and `X-Salter-Exchange-Hash` (SHA-256 of the request's bytes followed by the "
        "response's). Every exchange, refused ones included, is in the register's sealed log."
    ),
    urls_namespace="registers",
    docs_url=None,
    openapi_url="/openapi.json",
)
errors.install(api)


def _respond(request: HttpRequest, register: str, name: str) -> HttpResponse:
    reply = services.serve(register, name, request.body, request.headers.get("Authorization", ""))
    response = HttpResponse(reply.body, status=reply.status)
    for header, value in reply.headers.items():
        response[header] = value
    return response


# --- The description of each query --------------------------------------------------------

_TYPES: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "date": {"type": "string", "format": "date"},
    "decimal": {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$"},
    "integer": {"type": "integer"},
    "jmbg": {"type": "string", "pattern": "^[0-9]{13}$"},
}


def _field(field: Field) -> dict[str, Any]:
    return {**_TYPES[field.kind], "title": field.label_en, "description": field.label}


def _request_schema(query: Query) -> dict[str, Any]:
    return {
        "type": "object",
        "required": list(services.REQUIRED),
        "properties": {
            "request_id": {"type": "string", "format": "uuid"},
            "query": {"const": query.code},
            "input": {
                "type": "object",
                "required": [f.name for f in query.inputs],
                "additionalProperties": False,
                "properties": {f.name: _field(f) for f in query.inputs},
            },
            "client": {
                "type": "object",
                "required": ["authority"],
                "properties": {
                    "authority": {"type": "string", "description": "The asking authority."},
                    "system": {"type": "string", "description": "The asking system."},
                },
            },
            "official": {
                "type": ["object", "null"],
                "properties": {"id": {"type": ["string", "integer"]}, "name": {"type": "string"}},
            },
            "case": {"type": ["string", "null"], "description": "The case's registry number."},
            "purpose": {"type": "string", "minLength": 1},
            "legal_basis": {"type": "string", "minLength": 1},
            "sent_at": {"type": "string", "format": "date-time"},
        },
    }


_HASH_HEADERS = {
    services.REQUEST_HASH_HEADER: {
        "description": "SHA-256 (hex) of the request body's bytes.",
        "schema": {"type": "string"},
    },
    services.EXCHANGE_HASH_HEADER: {
        "description": "SHA-256 (hex) of the request body's bytes followed by the response's.",
        "schema": {"type": "string"},
    },
}


def _refusal(text: str) -> dict[str, Any]:
    return {
        "description": text,
        "headers": _HASH_HEADERS,
        "content": {"application/json": {"schema": errors.ERROR_SCHEMA}},
    }


def _description(query: Query) -> str:
    register = query.register
    return (
        f"{query.description}\n\n"
        f"**Register:** {register.name} ({register.name_en})\n\n"
        f"**Holder:** {register.holder} ({register.holder_en})\n\n"
        f"**Legal basis:** {query.legal_basis}\n\n"
        f"**Who may ask:** {query.may_ask} ({query.may_ask_en}); the client needs the query "
        "granted by the register."
    )


def _openapi(query: Query) -> dict[str, Any]:
    answer = {
        "type": "object",
        "required": ["request_id", "query", "found", "data", "answered_at"],
        "properties": {
            "request_id": {"type": "string", "format": "uuid"},
            "query": {"const": query.code},
            "found": {"type": "boolean"},
            "data": {
                "anyOf": [
                    {
                        "type": "object",
                        "properties": {f.name: _field(f) for f in query.outputs},
                    },
                    {"type": "null"},
                ]
            },
            "answered_at": {"type": "string", "format": "date-time"},
        },
    }
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _request_schema(query)}},
        },
        "responses": {
            200: {
                "description": "The answer; `found` is false when the register holds no record.",
                "headers": _HASH_HEADERS,
                "content": {"application/json": {"schema": answer}},
            },
            400: _refusal("The request is not in the protocol's form."),
            401: _refusal("No token, or not a valid one."),
            403: _refusal("The client may not ask this query."),
            422: _refusal("An input is not valid (a JMBG's check digit, say)."),
        },
        "x-query": query.code,
        "x-register": query.register.code,
        "x-holder": {"name": query.register.holder, "name_en": query.register.holder_en},
        "x-legal-basis": query.legal_basis,
        "x-may-ask": {"sr": query.may_ask, "en": query.may_ask_en},
        "x-inputs": [f.as_dict() for f in query.inputs],
        "x-outputs": [f.as_dict() for f in query.outputs],
    }


def _route(query: Query) -> None:
    register, name = query.register.code, query.name

    def handler(request: HttpRequest) -> HttpResponse:
        return _respond(request, register, name)

    handler.__name__ = f"{register}__{name}"
    api.post(
        query.path,
        summary=f"{query.title_en} ({query.title})",
        description=_description(query),
        operation_id=query.code.replace(".", "__"),
        url_name=query.code.replace(".", "__"),
        tags=[query.register.code],
        openapi_extra=_openapi(query),
    )(handler)


for _query in QUERIES.values():
    _route(_query)


@api.post("/{register_code}/{query_name}", include_in_schema=False, url_name="unknown_query")
def unknown_query(request: HttpRequest, register_code: str, query_name: str) -> HttpResponse:
    """Any other query: refused with 404, and logged like the rest."""
    return _respond(request, register_code, query_name)
