"""The demo platform and the demo registers, joined by the platform's seed: three data services
with a working token, idempotently, and Ivana's newborn found ex officio."""

from __future__ import annotations

import pytest

from salter.audit.models import AuditEvent
from salter.authorities.models import Authority
from salter.core import demo
from salter.exchange import client
from salter.exchange.models import DataService
from salter.registers import seed, services
from salter.registers.catalogue import QUERIES
from salter.registers.models import RegisterClient
from salter.registers.tests.helpers import in_process

pytestmark = pytest.mark.django_db


def test_the_demo_seed_offers_the_registers_as_data_services_once() -> None:
    demo.seed()
    services_once = list(DataService.objects.values_list("code", "authority__code", "url"))
    events = AuditEvent.objects.filter(action__startswith="exchange.").count()

    demo.seed()

    assert list(DataService.objects.values_list("code", "authority__code", "url")) == [
        ("civil_registry.birth_by_jmbg", "mdulsu", "http://127.0.0.1:8000/registers/civil_registry/birth_by_jmbg"),
        ("residence_register.residence_by_jmbg", "mup", "http://127.0.0.1:8000/registers/residence_register/residence_by_jmbg"),
        ("tax_records.tax_by_jmbg", "surdulica", "http://127.0.0.1:8000/registers/tax_records/tax_by_jmbg"),
    ] == services_once  # fmt: skip
    # The second run changed nothing: no new client, no new audit event.
    assert RegisterClient.objects.count() == 1
    assert AuditEvent.objects.filter(action__startswith="exchange.").count() == events
    [token] = {s.token for s in DataService.objects.all()}
    platform = services.authenticate(token)
    assert platform is not None
    assert (platform.authority, sorted(platform.queries)) == ("ite", sorted(QUERIES))
    tax = DataService.objects.get(code="tax_records.tax_by_jmbg")
    assert list(tax.allowed.values_list("code", flat=True)) == ["surdulica"]
    for service in DataService.objects.all():
        assert service.legal_basis == QUERIES[service.code].legal_basis
        assert [o["name"] for o in service.outputs] == [
            f.name for f in QUERIES[service.code].outputs
        ]
    # The residence register's holder joined the demo with a fee account like the others.
    assert Authority.objects.get(code="mup").account


def test_a_lost_token_is_replaced_on_the_next_seed() -> None:
    demo.seed()
    old = RegisterClient.objects.get()
    services.revoke_client(old.prefix)

    demo.seed()

    new = RegisterClient.objects.exclude(pk=old.pk).get()
    [token] = {s.token for s in DataService.objects.all()}
    assert services.authenticate(token) == new


def test_ivanas_newborn_is_found_ex_officio_with_the_seeded_token() -> None:
    demo.seed()
    surdulica = Authority.objects.get(code="surdulica")

    with in_process():
        birth = client.ask(
            "civil_registry.birth_by_jmbg",
            {"jmbg": seed.LUKA},
            authority=surdulica,
            purpose="ex_officio_evidence",
        )
        residence = client.ask(
            "residence_register.residence_by_jmbg",
            {"jmbg": seed.IVANA},
            authority=surdulica,
            purpose="ex_officio_evidence",
        )

    assert birth.found and birth.data is not None
    assert birth.data["mother_jmbg"] == seed.IVANA
    assert residence.data is not None and residence.data["municipality"] == "Сурдулица"
