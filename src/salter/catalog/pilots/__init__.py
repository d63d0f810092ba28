"""The pilot procedures, shipped as definition files and seeded by ``salter seed``.

* ``overtime`` — overtime work (internal procedure; the applicant is an employee). Accounting
  takes its last step with the ``approver`` role: in the demo, accounting staff hold ``approver``
  in their finance unit, and no clerk of another unit (HR, say) can issue a pay slip.
* ``newborn_aid`` — one-time financial aid for a newborn (administrative procedure under ZUP,
  30-day deadline; the applicant is a parent).
* ``property_certificate`` — a certificate of property status from the municipality's tax
  records: a fixed municipal fee and a fee per copy (``copies * 150``); the case waits for
  payment (the IPS QR payment slip, reconciled from the bank statement) and moves on by itself
  when both are paid (``"auto": "paid"``); a clerk issues the certificate under the seal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


@dataclass(frozen=True)
class Pilot:
    code: str
    name: str
    name_en: str
    description: str
    description_en: str
    legal_basis: str
    kind: str
    min_level_of_assurance: int
    classification_code: str

    file: str

    def definition(self) -> dict[str, Any]:
        return load(self.file)


def load(code: str) -> dict[str, Any]:
    definition: dict[str, Any] = json.loads((HERE / f"{code}.json").read_text(encoding="utf-8"))
    return definition


OVERTIME = Pilot(
    code="overtime",
    name="Прековремени рад",
    name_en="Overtime work",
    description=(
        "Захтев запосленог за прековремени рад, одобрење руководиоца, извештај о обављеном "
        "раду и обрачун увећане зараде."
    ),
    description_en=(
        "An employee's application for overtime work, the head's approval, the report of the "
        "work done and the pay slip with the increased pay."
    ),
    legal_basis="Закон о раду, чл. 53 и 108",
    kind="internal",
    min_level_of_assurance=2,
    classification_code="",
    file="overtime",
)

NEWBORN_AID = Pilot(
    code="newborn-aid",
    name="Једнократна новчана помоћ за новорођено дете",
    name_en="One-time financial aid for a newborn",
    description=(
        "Родитељ подноси захтев за једнократну новчану помоћ поводом рођења детета; општина "
        "по службеној дужности прибавља извод из матичне књиге рођених."
    ),
    description_en=(
        "A parent applies for one-time financial aid for the birth of a child; the "
        "municipality obtains the birth record ex officio."
    ),
    legal_basis="Закон о општем управном поступку; Одлука о финансијској подршци породици са децом",
    kind="administrative",
    min_level_of_assurance=2,
    classification_code="",
    file="newborn_aid",
)

PROPERTY_CERTIFICATE = Pilot(
    code="property-certificate",
    name="Уверење о имовном стању",
    name_en="Certificate of property status",
    description=(
        "Уверење из службене евиденције локалне пореске администрације о непокретностима и "
        "другој имовини на коју грађанин плаћа порез на имовину. Таксу плаћате налогом са "
        "IPS QR кодом; захтев иде у обраду чим уплата стигне."
    ),
    description_en=(
        "A certificate from the records of the local tax administration of the real estate "
        "and other property a citizen pays property tax on. You pay the fees with a payment "
        "slip with an IPS QR code; the application is processed as soon as the payment "
        "arrives."
    ),
    legal_basis=(
        "Закон о општем управном поступку, чл. 29; Одлука о локалним административним таксама"
    ),
    kind="administrative",
    min_level_of_assurance=2,
    classification_code="",
    file="property_certificate",
)

ALL = (OVERTIME, NEWBORN_AID, PROPERTY_CERTIFICATE)
