"""What the registers answer: each register and each query, described in one place.

The HTTP API (:mod:`salter.registers.api`) makes one endpoint per query from this catalogue
and publishes its description — inputs, outputs, legal basis, holder, who may ask — in the
OpenAPI document; the demo's onboarding registers the same descriptions with the platform.
A query's answer comes from :mod:`salter.registers.queries`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from salter.registers import queries

ZUP = "Закон о општем управном поступку, чл. 9 и 103"


@dataclass(frozen=True)
class Field:
    name: str
    label: str  # Serbian
    label_en: str
    kind: str = "string"  # "string", "date", "decimal", "integer"; "jmbg" for inputs

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "label": self.label, "label_en": self.label_en}


@dataclass(frozen=True)
class Register:
    code: str
    name: str
    name_en: str
    holder: str  # the authority that keeps it
    holder_en: str
    holder_code: str  # that authority's code on the demo platform
    # The name on the register's e-seal: a certificate's common name is at most 64 bytes of
    # UTF-8, 32 Cyrillic letters.
    seal_name: str


@dataclass(frozen=True)
class Query:
    register: Register
    name: str
    title: str
    title_en: str
    description: str
    inputs: tuple[Field, ...]
    outputs: tuple[Field, ...]
    legal_basis: str
    may_ask: str  # who may ask, by law; a client also needs the query granted
    may_ask_en: str
    answer: Callable[[dict[str, str]], dict[str, Any] | None]

    @property
    def code(self) -> str:
        return f"{self.register.code}.{self.name}"

    @property
    def path(self) -> str:
        """Where it is served, under the registers' root (``/registers``)."""
        return f"/{self.register.code}/{self.name}"


JMBG = Field("jmbg", "ЈМБГ", "Personal number (JMBG)", "jmbg")

CIVIL_REGISTRY = Register(
    code="civil_registry",
    name="Матичне књиге — матична књига рођених",
    name_en="Civil registry — the birth register",
    holder="Министарство државне управе и локалне самоуправе",
    holder_en="Ministry of Public Administration and Local Self-Government",
    holder_code="mdulsu",
    seal_name="Матичне књиге — МДУЛС",
)
RESIDENCE_REGISTER = Register(
    code="residence_register",
    name="Евиденција пребивалишта",
    name_en="Residence register",
    holder="Министарство унутрашњих послова",
    holder_en="Ministry of the Interior",
    holder_code="mup",
    seal_name="Евиденција пребивалишта — МУП",
)
TAX_RECORDS = Register(
    code="tax_records",
    name="Евиденција локалних јавних прихода",
    name_en="Local tax records",
    holder="Општина Сурдулица — локална пореска администрација",
    holder_en="Municipality of Surdulica — local tax administration",
    holder_code="surdulica",
    seal_name="Сурдулица — пореска евиденција",
)

REGISTERS = {r.code: r for r in (CIVIL_REGISTRY, RESIDENCE_REGISTER, TAX_RECORDS)}

_AUTHORITIES_IN_PROCEDURE = (
    "Органи који воде управни поступак у коме је податак потребан, по службеној дужности",
    "Authorities conducting an administrative procedure that needs the data, ex officio",
)

QUERIES: dict[str, Query] = {
    q.code: q
    for q in (
        Query(
            register=CIVIL_REGISTRY,
            name="birth_by_jmbg",
            title="Извод из матичне књиге рођених",
            title_en="Birth record by personal number",
            description=(
                "The entry of the birth register book for a personal number: the person's "
                "names, sex, date and place of birth, and the parents."
            ),
            inputs=(JMBG,),
            outputs=(
                Field("given_name", "Име", "Given name"),
                Field("family_name", "Презиме", "Family name"),
                Field("sex", "Пол", "Sex"),
                Field("birth_date", "Датум рођења", "Date of birth", "date"),
                Field("birth_place", "Место рођења", "Place of birth"),
                Field("municipality", "Општина рођења", "Municipality of birth"),
                Field("mother_name", "Име и презиме мајке", "Mother's name"),
                Field("mother_jmbg", "ЈМБГ мајке", "Mother's JMBG"),
                Field("father_name", "Име и презиме оца", "Father's name"),
                Field("father_jmbg", "ЈМБГ оца", "Father's JMBG"),
                Field("entry_number", "Редни број уписа", "Entry number in the register"),
            ),
            legal_basis=f"Закон о матичним књигама; {ZUP}",
            may_ask=_AUTHORITIES_IN_PROCEDURE[0],
            may_ask_en=_AUTHORITIES_IN_PROCEDURE[1],
            answer=queries.birth_by_jmbg,
        ),
        Query(
            register=RESIDENCE_REGISTER,
            name="residence_by_jmbg",
            title="Податак о пребивалишту",
            title_en="Residence by personal number",
            description="A person's current address of residence and since when.",
            inputs=(JMBG,),
            outputs=(
                Field("address", "Адреса", "Address"),
                Field("place", "Место", "Place"),
                Field("municipality", "Општина", "Municipality"),
                Field("since", "Пријављен од", "Resident since", "date"),
            ),
            legal_basis=f"Закон о пребивалишту и боравишту грађана; {ZUP}",
            may_ask=_AUTHORITIES_IN_PROCEDURE[0],
            may_ask_en=_AUTHORITIES_IN_PROCEDURE[1],
            answer=queries.residence_by_jmbg,
        ),
        Query(
            register=TAX_RECORDS,
            name="tax_by_jmbg",
            title="Податак о порезу на имовину",
            title_en="Property tax by personal number",
            description=(
                "The latest year's property tax of a person in the municipality: assessed, "
                "paid and still owed."
            ),
            inputs=(JMBG,),
            outputs=(
                Field("municipality", "Општина", "Municipality"),
                Field("year", "Година", "Year", "integer"),
                Field("assessed", "Утврђен порез", "Tax assessed", "decimal"),
                Field("paid", "Плаћено", "Paid", "decimal"),
                Field("debt", "Дуг", "Debt", "decimal"),
            ),
            legal_basis=(
                "Закон о порезима на имовину; Закон о пореском поступку и пореској "
                f"администрацији; {ZUP}"
            ),
            may_ask=(
                "Органи јединице локалне самоуправе и органи који одлучују о правима која "
                "зависе од имовног стања"
            ),
            may_ask_en=(
                "The local government's authorities and authorities deciding on rights that "
                "depend on a person's means"
            ),
            answer=queries.tax_by_jmbg,
        ),
    )
}
