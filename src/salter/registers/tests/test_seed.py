"""The registers' demo contents: the same people everywhere, valid personal numbers, the demo's
own family, and a second run that adds nobody."""

from __future__ import annotations

from collections import Counter

import pytest
from django.core.management import CommandError, call_command

from salter.registers import seed, services
from salter.registers.models import BirthRecord, Residence, TaxRecord
from salter.registers.services import valid_jmbg


def test_the_generated_people_are_the_same_every_time_with_valid_unique_numbers() -> None:
    first, again = seed.generated_people(), seed.generated_people()

    assert first == again
    assert len(first) == seed.GENERATED
    numbers = [p.jmbg for p in first] + [p.jmbg for p in seed.demo_people()]
    assert len(set(numbers)) == len(numbers)
    assert all(valid_jmbg(n) for n in numbers)
    for person in first:
        # The number carries the date of birth, and men's serials are below 500.
        assert person.jmbg[:4] == f"{person.birth_date:%d%m}"
        assert (int(person.jmbg[9:12]) < 500) == (person.sex == "M")
    # Most live in the demo municipality; some pay property tax there.
    places = Counter(p.residence[2] for p in first if p.residence)
    assert places.most_common(1)[0][0] == "Сурдулица"
    assert sum(1 for p in first if p.taxes) > 20


@pytest.mark.django_db
def test_seeding_twice_adds_nobody_the_second_time() -> None:
    added = seed.seed()
    counts = (BirthRecord.objects.count(), Residence.objects.count(), TaxRecord.objects.count())

    assert added == seed.GENERATED + len(seed.demo_people())
    assert seed.seed() == 0
    assert counts == (
        BirthRecord.objects.count(),
        Residence.objects.count(),
        TaxRecord.objects.count(),
    )


@pytest.mark.django_db
def test_the_demo_family_is_in_the_registers() -> None:
    seed.seed()

    luka = BirthRecord.objects.by_jmbg(seed.LUKA).get()
    assert (luka.given_name, luka.family_name, luka.municipality) == (
        "Лука",
        "Марковић",
        "Сурдулица",
    )
    assert (luka.mother_jmbg, luka.father_jmbg) == (seed.IVANA, seed.MILOS)
    assert luka.mother_name == "Ивана Марковић"
    for citizen in (seed.PETAR, seed.IVANA):
        assert Residence.objects.by_jmbg(citizen).get().municipality == "Сурдулица"
        assert TaxRecord.objects.by_jmbg(citizen).count() == 2
    petar_2026 = TaxRecord.objects.by_jmbg(seed.PETAR).get(year=2026)
    assert petar_2026.debt == petar_2026.assessed - petar_2026.paid > 0
    # Stored encrypted: the number itself is not in the table.
    assert not BirthRecord.objects.filter(jmbg=seed.LUKA).exists()


@pytest.mark.django_db
def test_the_command_issues_a_token_once_and_revokes_it(capsys: pytest.CaptureFixture[str]) -> None:
    call_command(
        "register_client",
        name="Пореска управа",
        authority="pu",
        query=["tax_records.tax_by_jmbg", "residence_register.residence_by_jmbg"],
    )
    token = capsys.readouterr().out.strip().splitlines()[-1]

    client = services.authenticate(token)
    assert client is not None
    assert client.queries == ["residence_register.residence_by_jmbg", "tax_records.tax_by_jmbg"]
    assert token not in client.digest and len(client.digest) == 64

    call_command("register_client", revoke=client.prefix)
    assert services.authenticate(token) is None
    with pytest.raises(CommandError, match="no active client"):
        call_command("register_client", revoke=client.prefix)


@pytest.mark.django_db
def test_the_command_refuses_an_unknown_query_or_a_missing_name() -> None:
    with pytest.raises(CommandError):
        call_command("register_client", name="x", authority="y", query=["land.parcels"])
    with pytest.raises(CommandError, match="--name"):
        call_command("register_client", authority="y", query=["tax_records.tax_by_jmbg"])
