from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from xml.sax.saxutils import escape

import pytest
from conftest import PASSWORD
from django.utils import translation

from salter.authorities import services as authorities
from salter.authorities.models import Authority, OrgUnit
from salter.catalog import pilots
from salter.catalog import services as catalog
from salter.catalog.models import ServiceVersion
from salter.core.accounts import make_account
from salter.core.context import Actor
from salter.identity import services as identity
from salter.identity.models import Role, User

ACCOUNT = make_account("840", "1003")
PAYMENT_CODE = 103
CERTIFICATE_FORM = {"jmbg": "0101990710008", "purpose": "упис у школу", "copies": 2}


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Messages are asserted in English; their Serbian translations live in the catalogue."""
    with translation.override("en"):
        yield


def act(user: User | None) -> Actor:
    return Actor(user=user, via="test")


@pytest.fixture
def paying(authority: Authority, system: Actor) -> Authority:
    """The test authority, with an account for fees and a reference code."""
    return authorities.set_fee_account(
        system, authority, account=ACCOUNT, payment_code=PAYMENT_CODE
    )


@pytest.fixture
def certificate(paying: Authority, system: Actor) -> ServiceVersion:
    return catalog.offer_pilot(system, paying, pilots.PROPERTY_CERTIFICATE)


def member(system: Actor, unit: OrgUnit, email: str, role: str) -> User:
    return identity.add_official(
        system, email=email, full_name=email.split("@")[0], unit=unit, role=role, password=PASSWORD
    ).user


@pytest.fixture
def accountant(unit: OrgUnit, system: Actor) -> User:
    return member(system, unit, "racunovodja@surdulica.demo", Role.APPROVER)


@pytest.fixture
def clerk(unit: OrgUnit, system: Actor) -> User:
    return member(system, unit, "referent@surdulica.demo", Role.CLERK)


@pytest.fixture
def stranger(system: Actor) -> User:
    """The accountant of another authority."""
    other = authorities.create_authority(system, code="apr", name="АПР", kind="agency")
    unit = authorities.create_unit(system, other, code="fin", name="Финансије")
    return member(system, unit, "racunovodja@apr.demo", Role.APPROVER)


@dataclass(frozen=True)
class Entry:
    """One credit on a test statement."""

    reference: str
    amount: str
    debtor: str = "Петар Петровић"
    ref: str = ""  # the bank's entry reference
    e2e: str = ""
    booked: dt.date = dt.date(2026, 3, 3)
    credit: bool = True
    currency: str = "RSD"

    def xml(self) -> str:
        refs = f"<Refs><EndToEndId>{escape(self.e2e)}</EndToEndId></Refs>" if self.e2e else ""
        remittance = (
            f"<RmtInf><Strd><CdtrRefInf><Ref>{escape(self.reference)}</Ref></CdtrRefInf></Strd>"
            "</RmtInf>"
            if self.reference
            else ""
        )
        return (
            f"<Ntry>{f'<NtryRef>{escape(self.ref)}</NtryRef>' if self.ref else ''}"
            f'<Amt Ccy="{self.currency}">{Decimal(self.amount):.2f}</Amt>'
            f"<CdtDbtInd>{'CRDT' if self.credit else 'DBIT'}</CdtDbtInd><Sts>BOOK</Sts>"
            f"<BookgDt><Dt>{self.booked.isoformat()}</Dt></BookgDt>"
            f"<NtryDtls><TxDtls>{refs}"
            f"<RltdPties><Dbtr><Nm>{escape(self.debtor)}</Nm></Dbtr></RltdPties>"
            f"{remittance}</TxDtls></NtryDtls></Ntry>"
        )


def statement(*entries: Entry, account: str = ACCOUNT, statement_id: str = "S1") -> bytes:
    """A camt.053.001.02 statement of ``account`` with ``entries``."""
    body = "".join(e.xml() for e in entries)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>'
        "<GrpHdr><MsgId>M</MsgId><CreDtTm>2026-03-04T06:00:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>{statement_id}</Id><Acct><Id><Othr><Id>{account}</Id></Othr></Id></Acct>"
        f"{body}</Stmt></BkToCstmrStmt></Document>"
    ).encode()
