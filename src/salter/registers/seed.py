"""Demo contents of the registers: generated people, and the demo's own citizens.

:func:`seed` writes about two hundred generated people — the same ones on every machine (a
fixed random seed), each with a valid personal number — and the people the demo's story
needs: the two demo citizens of :mod:`salter.core.demo`, resident in Surdulica with property
tax records, and Ivana Marković's newborn son, so that she can apply for newborn aid and the
municipality finds the birth record and her residence ex officio. Idempotent: a person
already in a register is left as they are.

The demo's people are listed here, not imported from the platform's demo: the registers are a
separate service, and the two only agree on the personal numbers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction

from salter.core import pii
from salter.identity.validators import jmbg_check_digit
from salter.registers.models import BirthRecord, PersonalRecord, Residence, TaxRecord

RANDOM_SEED = 1976  # the year the JMBG was introduced
GENERATED = 200

# (place, municipality, JMBG region code)
PLACES = [
    ("Сурдулица", "Сурдулица", 74),
    ("Владичин Хан", "Владичин Хан", 74),
    ("Врање", "Врање", 74),
    ("Босилеград", "Босилеград", 74),
    ("Лесковац", "Лесковац", 74),
    ("Ниш", "Ниш — Медијана", 73),
    ("Крагујевац", "Крагујевац", 72),
    ("Београд", "Савски венац", 71),
    ("Београд", "Звездара", 71),
]
STREETS = [
    "Српских владара", "Краља Петра Првог", "Вука Караџића", "Николе Тесле", "Моше Пијаде",
    "Јована Ристића", "Цара Душана", "Светог Саве", "Бранка Радичевића", "Његошева",
]  # fmt: skip
MALE = [
    "Марко", "Никола", "Стефан", "Лука", "Милош", "Душан", "Александар", "Немања",
    "Драган", "Зоран", "Горан", "Небојша", "Владимир", "Иван", "Петар", "Јован",
]  # fmt: skip
FEMALE = [
    "Ана", "Милица", "Јелена", "Марија", "Ивана", "Јована", "Тијана", "Драгана",
    "Снежана", "Весна", "Гордана", "Сања", "Катарина", "Невена", "Теодора", "Мина",
]  # fmt: skip
FAMILY = [
    "Петровић", "Јовановић", "Николић", "Стојановић", "Илић", "Ђорђевић", "Митић",
    "Стаменковић", "Тасић", "Златковић", "Костић", "Станковић", "Миленковић", "Ристић",
]  # fmt: skip


def make_jmbg(born: date, region: int, serial: int) -> str | None:
    """The personal number of someone born on ``born`` in ``region`` with serial number
    ``serial`` (000–499 for men, 500–999 for women), or None when no valid one starts so."""
    first = f"{born:%d%m}{born.year % 1000:03d}{region:02d}{serial:03d}"
    check = jmbg_check_digit(first)
    return None if check is None else f"{first}{check}"


@dataclass
class Person:
    jmbg: str
    given_name: str
    family_name: str
    sex: str
    birth_date: date
    birth_place: str
    municipality: str
    entry_number: str
    mother_name: str = ""
    mother_jmbg: str = ""
    father_name: str = ""
    father_jmbg: str = ""
    residence: tuple[str, str, str, date] | None = None  # address, place, municipality, since
    taxes: list[tuple[int, str, str]] = field(default_factory=list)  # year, assessed, paid


# --- The demo's own people ------------------------------------------------------------------

PETAR = "0101990710008"  # Петар Петровић, demo citizen (gradjanin@example.rs)
IVANA = "1505988715008"  # Ивана Марковић, demo citizen (roditelj@example.rs)
MILOS = "2003986740003"  # Милош Марковић, her husband
LUKA = "1409026740133"  # Лука Марковић, their son, born 14 September 2026 (docs/exchange.md)


def demo_people() -> list[Person]:
    surdulica = "Сурдулица"
    return [
        Person(
            jmbg=PETAR,
            given_name="Петар",
            family_name="Петровић",
            sex="M",
            birth_date=date(1990, 1, 1),
            birth_place="Београд",
            municipality="Савски венац",
            entry_number="12/1990",
            mother_name="Милена Петровић",
            father_name="Драган Петровић",
            residence=("Краља Петра Првог 12", surdulica, surdulica, date(2015, 3, 1)),
            taxes=[(2025, "18400.00", "18400.00"), (2026, "19150.00", "9575.00")],
        ),
        Person(
            jmbg=IVANA,
            given_name="Ивана",
            family_name="Марковић",
            sex="F",
            birth_date=date(1988, 5, 15),
            birth_place="Београд",
            municipality="Звездара",
            entry_number="417/1988",
            mother_name="Весна Стојановић",
            father_name="Горан Стојановић",
            residence=("Српских владара 14", surdulica, surdulica, date(2019, 6, 10)),
            taxes=[(2025, "12300.00", "12300.00"), (2026, "12900.00", "12900.00")],
        ),
        Person(
            jmbg=MILOS,
            given_name="Милош",
            family_name="Марковић",
            sex="M",
            birth_date=date(1986, 3, 20),
            birth_place=surdulica,
            municipality=surdulica,
            entry_number="38/1986",
            mother_name="Гордана Марковић",
            father_name="Зоран Марковић",
            residence=("Српских владара 14", surdulica, surdulica, date(2019, 6, 10)),
        ),
        Person(
            jmbg=LUKA,
            given_name="Лука",
            family_name="Марковић",
            sex="M",
            birth_date=date(2026, 9, 14),
            birth_place=surdulica,
            municipality=surdulica,
            entry_number="154/2026",
            mother_name="Ивана Марковић",
            mother_jmbg=IVANA,
            father_name="Милош Марковић",
            father_jmbg=MILOS,
            residence=("Српских владара 14", surdulica, surdulica, date(2026, 9, 20)),
        ),
    ]


# --- Generated people -----------------------------------------------------------------------


def generated_people(count: int = GENERATED, seed: int = RANDOM_SEED) -> list[Person]:
    """``count`` people, the same for the same ``seed``; no one shares a personal number with
    another or with the demo's people."""
    rng = random.Random(seed)  # noqa: S311 — demo data, not a secret
    taken = {p.jmbg for p in demo_people()}
    people: list[Person] = []
    entries: dict[tuple[str, int], int] = {}
    while len(people) < count:
        born = date(1940, 1, 1) + timedelta(days=rng.randrange(365 * 85))
        place, municipality, region = rng.choice(PLACES)
        sex = rng.choice("MF")
        serial = rng.randrange(0, 500) if sex == "M" else rng.randrange(500, 1000)
        jmbg = make_jmbg(born, region, serial)
        if jmbg is None or jmbg in taken:
            continue
        taken.add(jmbg)
        family = rng.choice(FAMILY)
        entries[(municipality, born.year)] = entries.get((municipality, born.year), 0) + 1
        person = Person(
            jmbg=jmbg,
            given_name=rng.choice(MALE if sex == "M" else FEMALE),
            family_name=family,
            sex=sex,
            birth_date=born,
            birth_place=place,
            municipality=municipality,
            entry_number=f"{entries[(municipality, born.year)]}/{born.year}",
            mother_name=f"{rng.choice(FEMALE)} {family}",
            father_name=f"{rng.choice(MALE)} {family}",
        )
        if rng.random() < 0.9:  # a few have left the country
            # Most live around Surdulica, where the demo's services are offered.
            home = PLACES[0] if rng.random() < 0.5 else rng.choice(PLACES)
            moved = born + timedelta(days=rng.randrange(0, (date(2026, 1, 1) - born).days))
            address = f"{rng.choice(STREETS)} {rng.randrange(1, 120)}"
            person.residence = (address, home[0], home[1], moved)
            adult = born <= date(2008, 1, 1)
            if adult and home[1] == "Сурдулица" and rng.random() < 0.7:
                for year in (2025, 2026):
                    assessed = Decimal(rng.randrange(3000, 60000)).quantize(Decimal("0.01"))
                    share = Decimal(rng.choice([0, 50, 100, 100, 100])) / 100
                    person.taxes.append(
                        (year, str(assessed), str((assessed * share).quantize(Decimal("0.01"))))
                    )
        people.append(person)
    return people


# --- Writing them ---------------------------------------------------------------------------


def _missing(model: type[PersonalRecord], people: list[Person]) -> list[Person]:
    """The people ``model``'s table does not hold yet, under any configured key (one query:
    the hashes are computed here)."""
    hashes = {p.jmbg: pii.blinds(p.jmbg) for p in people}
    every = [h for person_hashes in hashes.values() for h in person_hashes]
    held = set(model.objects.filter(jmbg_hash__in=every).values_list("jmbg_hash", flat=True))
    return [p for p in people if held.isdisjoint(hashes[p.jmbg])]


@transaction.atomic
def seed(count: int = GENERATED) -> int:
    """Write the demo's people and ``count`` generated ones into the registers; returns how
    many birth records were added."""
    people = demo_people() + generated_people(count)
    births = [
        BirthRecord(
            jmbg=p.jmbg,
            jmbg_hash=pii.blind(p.jmbg),
            given_name=p.given_name,
            family_name=p.family_name,
            sex=p.sex,
            birth_date=p.birth_date,
            birth_place=p.birth_place,
            municipality=p.municipality,
            mother_name=p.mother_name,
            mother_jmbg=p.mother_jmbg,
            father_name=p.father_name,
            father_jmbg=p.father_jmbg,
            entry_number=p.entry_number,
        )
        for p in _missing(BirthRecord, people)
    ]
    BirthRecord.objects.bulk_create(births)
    residents = [p for p in people if p.residence is not None]
    Residence.objects.bulk_create(
        Residence(
            jmbg=p.jmbg,
            jmbg_hash=pii.blind(p.jmbg),
            address=p.residence[0],
            place=p.residence[1],
            municipality=p.residence[2],
            since=p.residence[3],
        )
        for p in _missing(Residence, residents)
        if p.residence is not None
    )
    payers = [p for p in people if p.taxes]
    TaxRecord.objects.bulk_create(
        TaxRecord(
            jmbg=p.jmbg,
            jmbg_hash=pii.blind(p.jmbg),
            municipality=p.residence[2],
            year=year,
            assessed=Decimal(assessed),
            paid=Decimal(paid),
            debt=Decimal(assessed) - Decimal(paid),
        )
        for p in _missing(TaxRecord, payers)
        if p.residence is not None
        for year, assessed, paid in p.taxes
    )
    return len(births)
