"""Demo data for ``make run``: authorities, units, officials and citizens. Idempotent."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from salter.authorities import services as authority_services
from salter.authorities.models import Authority, OrgUnit
from salter.catalog import pilots
from salter.catalog import services as catalog_services
from salter.core.accounts import make_account
from salter.core.context import Actor
from salter.identity import services as identity_services
from salter.identity.models import Company, Person, Role, User
from salter.mailbox import services as mailbox
from salter.registers import demo as registers_demo

DEMO_PASSWORD = "salter-demo-2026"  # noqa: S105 — published demo password
# A fixed TOTP key for demo officials, so a newcomer can add it to an app (base32 below).
DEMO_TOTP_HEX = "3132333435363738393031323334353637383930"
DEMO_TOTP_BASE32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"


@dataclass(frozen=True)
class DemoAccount:
    email: str
    role: str
    note: str


AUTHORITIES = [
    ("mdulsu", "Министарство државне управе и локалне самоуправе",
     "Ministry of Public Administration and Local Self-Government", "ministry", None),
    ("apr", "Агенција за привредне регистре", "Serbian Business Registers Agency", "agency", None),
    ("surdulica", "Општина Сурдулица", "Municipality of Surdulica", "local_government", None),
    ("ite", "Канцеларија за информационе технологије и електронску управу",
     "Office for IT and eGovernment", "agency", "mdulsu"),
]  # fmt: skip

UNITS = [
    ("apr", "registry", "Сектор за регистре", "Registers sector"),
    ("apr", "hr", "Одељење за људске ресурсе", "Human resources department"),
    ("apr", "accounting", "Одељење за финансије", "Finance department"),
    ("surdulica", "social", "Одељење за друштвене делатности", "Social affairs department"),
    ("surdulica", "general", "Одељење за општу управу", "General administration"),
    ("surdulica", "finance", "Одељење за финансије", "Finance department"),
]  # fmt: skip

OFFICIALS = [
    ("sluzbenik@surdulica.demo", "Марко Петровић", "surdulica", "social", Role.CLERK),
    ("nacelnik@surdulica.demo", "Јелена Стојановић", "surdulica", "social", Role.HEAD_OF_UNIT),
    ("pisarnica@surdulica.demo", "Драгана Илић", "surdulica", "general", Role.REGISTRY_CLERK),
    ("admin@surdulica.demo", "Ненад Митић", "surdulica", "general", Role.AUTHORITY_ADMIN),
    ("referent@apr.demo", "Милица Јовановић", "apr", "hr", Role.CLERK),
    ("sef@apr.demo", "Зоран Николић", "apr", "hr", Role.HEAD_OF_UNIT),
    ("racunovodja@apr.demo", "Ана Ђорђевић", "apr", "accounting", Role.APPROVER),
    # Accounting takes the last step of the overtime pilot with the approver role.
    ("racunovodja@surdulica.demo", "Снежана Тасић", "surdulica", "finance", Role.APPROVER),
    # The local tax administration issues the certificates of property status.
    ("porezi@surdulica.demo", "Горан Стаменковић", "surdulica", "finance", Role.CLERK),
]  # fmt: skip

# Clearances other than the default (internal): social affairs handle families' data, the
# head of unit reads the confidential cases of the unit (docs/confidentiality.md).
CLEARANCES = {
    "sluzbenik@surdulica.demo": "case_confidential",
    "nacelnik@surdulica.demo": "confidential",
    "sef@apr.demo": "case_confidential",
}

# (authority, service code) → the unit that handles its cases. A service not listed is
# handled across the authority (overtime: the employee's head of unit, then accounting).
SERVICE_UNITS = {
    ("surdulica", "newborn-aid"): "social",
    ("surdulica", "property-certificate"): "finance",
}

# (authority, pilot): the pilot procedures offered in the demo, each published as version 1.
SERVICES = [
    ("apr", pilots.OVERTIME),
    ("surdulica", pilots.OVERTIME),
    ("surdulica", pilots.NEWBORN_AID),
    ("surdulica", pilots.PROPERTY_CERTIFICATE),
]

# Where each demo authority's fees are paid: an invented account at the Treasury (bank code
# 840; control digits computed, so the payment slips' QR codes are valid) and the numeric code
# that starts the model-97 references of its cases.
FEE_ACCOUNTS = {
    "mdulsu": ("840", "1001", 101),
    "apr": ("840", "1002", 102),
    "surdulica": ("840", "1003", 103),
    "ite": ("840", "1004", 104),
}

# A demo list of categories of documentary material (the real one is each authority's, approved
# by the archive): the pilots' acts are classified under 02.3, 04.2 and 05.1. Ten years and
# more, or permanently, means the signed act gets a document timestamp (PAdES B-LTA).
CATEGORIES: list[tuple[str, str, int | None]] = [
    ("01.1", "Оснивање, организација и рад органа", None),
    ("02.3", "Зараде и накнаде запослених, обрачуни", 50),
    ("04.2", "Локални порези и таксе, уверења о имовном стању", 5),
    ("05.1", "Финансијска подршка породици са децом, решења", 10),
    ("06.1", "Општа преписка", 5),
]

CITIZENS = [
    ("gradjanin@example.rs", "Петар Петровић", "0101990710008"),
    ("roditelj@example.rs", "Ивана Марковић", "1505988715008"),
]


@transaction.atomic
def seed() -> list[DemoAccount]:
    actor = Actor.system("seed")
    authorities: dict[str, Authority] = {}
    for code, name, name_en, kind, parent in AUTHORITIES:
        existing = Authority.objects.filter(code=code).first()
        authorities[code] = existing or authority_services.create_authority(
            actor,
            code=code,
            name=name,
            name_en=name_en,
            kind=kind,
            parent=authorities.get(parent) if parent else None,
        )
    units: dict[tuple[str, str], OrgUnit] = {}
    for authority_code, code, name, name_en in UNITS:
        authority = authorities[authority_code]
        existing_unit = OrgUnit.objects.filter(authority=authority, code=code).first()
        units[(authority_code, code)] = existing_unit or authority_services.create_unit(
            actor, authority, code=code, name=name, name_en=name_en
        )
    accounts = []
    for email, name, authority_code, unit_code, role in OFFICIALS:
        membership = identity_services.add_official(
            actor,
            email=email,
            full_name=name,
            unit=units[(authority_code, unit_code)],
            role=role,
            password=DEMO_PASSWORD,
            clearance=CLEARANCES.get(email),
        )
        TOTPDevice.objects.get_or_create(
            user=membership.user, name="Demo", defaults={"key": DEMO_TOTP_HEX, "confirmed": True}
        )
        accounts.append(DemoAccount(email, str(Role(role).label), f"{authority_code}/{unit_code}"))
    admin = User.objects.filter(email="operator@salter.demo").first()
    if admin is None:
        admin = User.objects.create_superuser(
            "operator@salter.demo",
            DEMO_PASSWORD,
            full_name="Оператор платформе",
            kind=User.Kind.OFFICIAL,
            email_verified_at=timezone.now(),
        )
        TOTPDevice.objects.create(user=admin, name="Demo", key=DEMO_TOTP_HEX, confirmed=True)
    accounts.append(DemoAccount(admin.email, "Platform administrator", "platform"))
    for email, name, jmbg in CITIZENS:
        if not User.objects.filter(email=email).exists():
            given, _sep, family = name.partition(" ")
            person, _created = Person.objects.get_or_create_jmbg(
                jmbg, {"given_name": given, "family_name": family}
            )
            User.objects.create_user(
                email,
                DEMO_PASSWORD,
                full_name=name,
                person=person,
                email_verified_at=timezone.now(),
            )
        accounts.append(DemoAccount(email, "Citizen", "no second factor"))
    # The first demo citizen consented to electronic communication (decisions reach the
    # e-mailbox); the others did not, so their decisions show the postal route.
    first = User.objects.get(email=CITIZENS[0][0])
    box = mailbox.mailbox_of(first)
    if not box.consents.exists():
        mailbox.give_consent(Actor(user=first, via="seed"), box)
    company = Company.objects.filter(pib="101134702").first()
    if company is None:
        company = Company.objects.create(
            pib="101134702", mb="07023014", name="Демо предузеће д.о.о.", address="Сурдулица"
        )
        identity_services.grant_company_mandate(
            actor, agent=User.objects.get(email="gradjanin@example.rs"), company=company
        )
    for authority in authorities.values():
        if not authority.category_lists.exists():
            authority_services.create_category_list(
                actor,
                authority,
                valid_from=timezone.localdate().replace(month=1, day=1),
                approval_number="демо",
                categories=CATEGORIES,
            )
    for code, (bank, number, payment_code) in FEE_ACCOUNTS.items():
        authority = authorities[code]
        if not authority.account:
            authority_services.set_fee_account(
                actor, authority, account=make_account(bank, number), payment_code=payment_code
            )
    for authority_code, pilot in SERVICES:
        version = catalog_services.offer_pilot(actor, authorities[authority_code], pilot)
        handling = SERVICE_UNITS.get((authority_code, pilot.code))
        if handling is not None:
            catalog_services.set_unit(actor, version.service, units[(authority_code, handling)])
    # The demo registers (civil registry, residence, local taxes) and their data services.
    registers_demo.connect(actor)
    return accounts
