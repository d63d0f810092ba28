"""The registers' answers: one indexed read per query, shaped as the query's outputs.

Dates are ISO 8601 and amounts decimal strings, so an answer's bytes (and its hash) do not
depend on how a float happens to print."""

from __future__ import annotations

from typing import Any

from salter.registers.models import BirthRecord, Residence, TaxRecord


def birth_by_jmbg(inputs: dict[str, str]) -> dict[str, Any] | None:
    record = BirthRecord.objects.by_jmbg(inputs["jmbg"]).first()
    if record is None:
        return None
    return {
        "given_name": record.given_name,
        "family_name": record.family_name,
        "sex": record.sex,
        "birth_date": record.birth_date.isoformat(),
        "birth_place": record.birth_place,
        "municipality": record.municipality,
        "mother_name": record.mother_name,
        "mother_jmbg": record.mother_jmbg,
        "father_name": record.father_name,
        "father_jmbg": record.father_jmbg,
        "entry_number": record.entry_number,
    }


def residence_by_jmbg(inputs: dict[str, str]) -> dict[str, Any] | None:
    record = Residence.objects.by_jmbg(inputs["jmbg"]).first()
    if record is None:
        return None
    return {
        "address": record.address,
        "place": record.place,
        "municipality": record.municipality,
        "since": record.since.isoformat(),
    }


def tax_by_jmbg(inputs: dict[str, str]) -> dict[str, Any] | None:
    record = TaxRecord.objects.by_jmbg(inputs["jmbg"]).order_by("-year").first()
    if record is None:
        return None
    return {
        "municipality": record.municipality,
        "year": record.year,
        "assessed": str(record.assessed),
        "paid": str(record.paid),
        "debt": str(record.debt),
    }
