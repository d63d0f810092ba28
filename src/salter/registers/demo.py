"""The demo registers join the demo platform, the way an operator would do it by hand.

This module is the operator's side, not the registers' service: it fills the registers
(:func:`salter.registers.seed.seed`), has them issue a client token to the platform (like
``salter register_client``), and registers each query with the platform as a data service
(:func:`salter.exchange.services.register_data_service`, what a holder's administrator does
from the register's OpenAPI description). The register service itself never imports the
platform. Idempotent: a platform that still holds a working token keeps it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction

from salter.authorities import services as authority_services
from salter.authorities.models import Authority
from salter.core.accounts import make_account
from salter.core.context import Actor
from salter.exchange import services as exchange_services
from salter.registers import seed, services
from salter.registers.catalogue import QUERIES, Query

if TYPE_CHECKING:
    from salter.exchange.models import DataService

CLIENT_NAME = "Šalter"
# The Office for IT and eGovernment runs the platform (as it runs eUprava): the registers'
# client is answerable to it; each request names the authority it asks for.
CLIENT_AUTHORITY = "ite"
# The residence register's holder is not among the demo's authorities otherwise.
MUP = ("mup", "Министарство унутрашњих послова", "Ministry of the Interior", "ministry")
MUP_FEE_ACCOUNT = ("840", "1005", 105)
# Only the municipality's own services read its tax records.
TAX_ASKERS = ["surdulica"]


def _holder(actor: Actor, code: str) -> Authority:
    authority = Authority.objects.filter(code=code).first()
    if authority is not None:
        return authority
    if code != MUP[0]:
        raise LookupError(f"the demo has no authority {code!r}: run the platform's seed first")
    authority = authority_services.create_authority(
        actor, code=MUP[0], name=MUP[1], name_en=MUP[2], kind=MUP[3]
    )
    bank, number, payment_code = MUP_FEE_ACCOUNT
    authority_services.set_fee_account(
        actor, authority, account=make_account(bank, number), payment_code=payment_code
    )
    return authority


def _register(actor: Actor, query: Query, token: str | None) -> DataService:
    base = settings.SALTER_REGISTERS_URL.rstrip("/")
    return exchange_services.register_data_service(
        actor,
        code=query.code,
        authority=_holder(actor, query.register.holder_code),
        name=query.title,
        name_en=query.title_en,
        description=query.description,
        url=base + query.path,
        openapi_url=base + "/openapi.json",
        legal_basis=query.legal_basis,
        inputs=[f.as_dict() for f in query.inputs],
        outputs=[f.as_dict() for f in query.outputs],
        token=token,
    )


def _working(token: str) -> bool:
    client = services.authenticate(token) if token else None
    return client is not None and set(QUERIES) <= set(client.queries)


@transaction.atomic
def connect(actor: Actor) -> list[DataService]:
    """Fill the registers and offer their queries on the platform; returns the data services."""
    seed.seed()
    data_services = [_register(actor, query, None) for query in QUERIES.values()]
    tokens = {s.token for s in data_services}
    if len(tokens) != 1 or not _working(tokens.pop()):
        _client, token = services.issue_client(
            name=CLIENT_NAME, authority=CLIENT_AUTHORITY, queries=list(QUERIES)
        )
        data_services = [_register(actor, query, token) for query in QUERIES.values()]
    tax = next(s for s in data_services if s.code == "tax_records.tax_by_jmbg")
    askers = list(Authority.objects.filter(code__in=TAX_ASKERS))
    if {a.pk for a in askers} != set(tax.allowed.values_list("pk", flat=True)):
        exchange_services.set_allowed(actor, tax, askers)
    return data_services
