"""The REST API at ``/api/v1/``: each bounded context adds its own router."""

from __future__ import annotations

from ninja import NinjaAPI

from salter.core import errors
from salter.identity.auth import AUTH

api = NinjaAPI(
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
