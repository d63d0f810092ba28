"""Who reads a case as an official: the unit that handles it (and the heads of the units
above), roles that serve the whole authority, up to each one's clearance; stand-ins read what
their principal reads. The same rule gates the case page, the API, the case's documents, the
work queue and the escalations, and refuses acting to anyone who cannot see the case."""

from __future__ import annotations

import copy
import io
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from salter.audit.models import AuditEvent
from salter.authorities import services as authorities
from salter.authorities.models import Authority, OrgUnit
from salter.cases import access, queries, services
from salter.cases.models import Case, Task
from salter.catalog import pilots
from salter.catalog import services as catalog
from salter.catalog.models import ServiceVersion
from salter.core import confidentiality
from salter.core.context import Actor
from salter.documents.models import Document
from salter.identity import services as identity
from salter.identity.models import Delegation, Membership, Role, User

from .conftest import NEWBORN_FORM, MakeOfficial, act, today
from .test_api import CASES, token
from .test_official_views import signed_in

pytestmark = pytest.mark.django_db


def handled_by(
    system: Actor, authority: Authority, unit: OrgUnit | None, level: str | None = None
) -> ServiceVersion:
    """The newborn-aid procedure as a service of ``unit`` at confidentiality ``level``."""
    definition = copy.deepcopy(pilots.NEWBORN_AID.definition())
    if level is not None:
        definition["confidentiality"] = level
    code = f"aid-{unit.code if unit else 'all'}-{level or 'default'}"
    service = catalog.create_service(
        system, authority, code=code, name="Помоћ", kind="administrative", unit=unit
    )
    return catalog.publish_version(
        system, catalog.create_draft_version(system, service, definition)
    )


def submit(version: ServiceVersion, citizen: User) -> Case:
    return services.submit(act(citizen), version, NEWBORN_FORM)[0]


@pytest.fixture
def general(authority: Authority, system: Actor) -> OrgUnit:
    return authorities.create_unit(
        system, authority, code="general", name="Општа управа", name_en="General administration"
    )


@pytest.fixture
def outsider(make_official: MakeOfficial, general: OrgUnit) -> User:
    """A clerk of the same authority, in another unit."""
    return make_official("opsta@surdulica.demo", "Оливер Општић", Role.CLERK, general)


def reads(user: User, case: Case) -> list[int]:
    """What the official case page and the API answer ``user`` (the case's documents:
    ``salter/documents/tests/test_confidentiality.py``)."""
    return [
        signed_in(user).get(reverse("official:case", args=[case.pk])).status_code,
        Client().get(f"{CASES}/{case.pk}", headers=token(user, "read")).status_code,
    ]


def queued(user: User) -> list[int]:
    return [i.case.pk for i in queries.work_queue(user)]


# --- units --------------------------------------------------------------------------------------


def test_an_official_of_another_unit_neither_sees_nor_acts(
    system: Actor,
    authority: Authority,
    unit: OrgUnit,
    citizen: User,
    clerk: User,
    outsider: User,
    make_official: MakeOfficial,
    general: OrgUnit,
) -> None:
    case = submit(handled_by(system, authority, unit), citizen)
    assert case.unit_id == unit.pk
    assert Task.objects.get(case=case).unit_id == unit.pk

    assert reads(clerk, case) == [200, 200]
    assert reads(outsider, case) == [404, 404]
    assert access.visible_case(case.pk, outsider) is None
    assert queued(clerk) == [case.pk] and queued(outsider) == []
    with pytest.raises(PermissionDenied):
        services.claim(act(outsider), Task.objects.get(case=case))
    with pytest.raises(PermissionDenied):
        services.take_transition(act(outsider), case, "start_review")
    with pytest.raises(PermissionDenied):
        services.comment(act(outsider), case, "Ово није моје.")
    # A head of unit cannot give the task to someone who cannot see the case either.
    head = make_official("sef@surdulica.demo", "Бранко Шефовић", Role.HEAD_OF_UNIT)
    task = Task.objects.get(case=case)
    assert {u.pk for u in services.assignable(case, task.roles)} == {clerk.pk}
    with pytest.raises(PermissionDenied):
        services.assign(act(head), task, outsider)

    # The registry office serves every unit: it sees the case (within its clearance).
    registry = make_official(
        "pisarnica@surdulica.demo", "Драгана Илић", Role.REGISTRY_CLERK, general
    )
    assert reads(registry, case) == [200, 200]


def test_a_service_without_a_unit_is_handled_across_the_authority(
    newborn_aid: ServiceVersion, citizen: User, clerk: User, outsider: User
) -> None:
    case = submit(newborn_aid, citizen)
    assert case.unit_id is None and case.confidentiality == confidentiality.DEFAULT_CASE_LEVEL
    assert reads(outsider, case) == [200, 200]
    assert set(queued(outsider)) == set(queued(clerk)) == {case.pk}
    services.take_transition(act(outsider), case, "start_review")


def test_the_head_of_a_unit_above_sees_the_cases_below(
    system: Actor,
    authority: Authority,
    citizen: User,
    make_official: MakeOfficial,
    unit: OrgUnit,
) -> None:
    sector = authorities.create_unit(system, authority, code="sector", name="Сектор")
    section = authorities.create_unit(
        system, authority, code="section", name="Одсек", parent=sector
    )
    group = authorities.create_unit(system, authority, code="group", name="Група", parent=section)
    deeper = [group]
    for depth in range(4):  # deeper than the three levels one look-up reads
        deeper.append(
            authorities.create_unit(
                system, authority, code=f"d{depth}", name=f"Ниво {depth}", parent=deeper[-1]
            )
        )
    chief = make_official("nacelnik@surdulica.demo", "Начелник Сектора", Role.HEAD_OF_UNIT, sector)
    sector_clerk = make_official("sektor@surdulica.demo", "Референт Сектора", Role.CLERK, sector)
    case = submit(handled_by(system, authority, group), citizen)
    deep = submit(handled_by(system, authority, deeper[-1]), citizen)
    for found in (case, deep):
        assert access.visible_case(found.pk, chief) is not None
        assert access.visible_case(found.pk, sector_clerk) is None  # only heads oversee
    # A head of a unit beside it does not.
    beside = make_official("sef@surdulica.demo", "Шеф Поред", Role.HEAD_OF_UNIT, unit)
    assert access.visible_case(case.pk, beside) is None

    # Escalations reach the heads above: flagged tasks of the units below them.
    Task.objects.filter(case__in=[case, deep]).update(
        escalated_at=timezone.now(), due_at=today() - timedelta(days=3)
    )
    assert {i.case.pk for i in queries.escalated_tasks(chief)} == {case.pk, deep.pk}
    assert queries.escalated_count(chief) == 2
    assert queries.escalated_tasks(beside) == [] and queries.escalated_count(beside) == 0


# --- clearances -------------------------------------------------------------------------------


def test_a_clearance_below_the_case_level_hides_it_until_raised(
    system: Actor, authority: Authority, unit: OrgUnit, citizen: User, clerk: User
) -> None:
    case = submit(handled_by(system, authority, unit, "confidential"), citizen)
    assert case.confidentiality == "confidential"
    assert Task.objects.get(case=case).level == confidentiality.rank("confidential")
    assert Document.objects.get(case=case).confidentiality == "confidential"

    assert reads(clerk, case) == [404, 404]
    assert queued(clerk) == []
    with pytest.raises(PermissionDenied):
        services.take_transition(act(clerk), case, "start_review")

    membership = Membership.objects.get(user=clerk)
    identity.set_clearance(system, membership, "confidential")
    assert reads(clerk, case) == [200, 200]
    assert queued(clerk) == [case.pk]
    services.take_transition(act(clerk), case, "start_review")

    # A restricted case stays visible to the cleared clerk; a secret one does not.
    secret = submit(handled_by(system, authority, unit, "secret"), citizen)
    assert access.visible_case(secret.pk, clerk) is None
    assert secret.pk not in queued(clerk)


def test_clearances_are_set_by_administrators_and_audited(
    system: Actor, authority: Authority, unit: OrgUnit, clerk: User, make_official: MakeOfficial
) -> None:
    membership = Membership.objects.get(user=clerk)
    assert membership.clearance == confidentiality.DEFAULT_CLEARANCE
    with pytest.raises(PermissionDenied):
        identity.set_clearance(act(clerk), membership, "secret")
    admin = make_official("admin@surdulica.demo", "Админ", Role.AUTHORITY_ADMIN)
    identity.set_clearance(act(admin), membership, "case_confidential")
    event = AuditEvent.objects.get(action="membership.clearance_changed")
    assert event.payload == {"user": clerk.pk, "from": "internal", "to": "case_confidential"}
    # Adding the membership again with a clearance changes it; the new one starts with it.
    identity.add_official(
        system,
        email=clerk.email,
        full_name=clerk.full_name,
        unit=unit,
        role=Role.CLERK,
        password=None,
        clearance="confidential",
    )
    assert Membership.objects.get(pk=membership.pk).clearance == "confidential"
    with pytest.raises(ValidationError):
        identity.set_clearance(system, membership, "top-secret")


def test_the_clearance_command(unit: OrgUnit, clerk: User) -> None:
    out = io.StringIO()
    call_command("clearance", clerk.email, "confidential", "--unit", unit.code, stdout=out)
    assert Membership.objects.get(user=clerk).clearance == "confidential"
    assert "clerk @ surdulica/social: confidential" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("clearance", "nobody@example.rs", "secret")


# --- stand-ins --------------------------------------------------------------------------------


def test_a_deputy_reads_what_the_head_reads(
    system: Actor,
    authority: Authority,
    unit: OrgUnit,
    citizen: User,
    head: User,
    outsider: User,
) -> None:
    identity.set_clearance(system, Membership.objects.get(user=head), "confidential")
    case = submit(handled_by(system, authority, unit, "confidential"), citizen)
    assert access.visible_case(case.pk, outsider) is None
    delegation = identity.delegate_role(
        act(head),
        principal=head,
        delegate=outsider,
        unit=unit,
        role=Role.HEAD_OF_UNIT,
        kind=Delegation.Kind.DEPUTY,
        valid_until=today() + timedelta(days=3),
    )
    found = access.visible_case(case.pk, outsider)
    assert found is not None and found[1] and getattr(found[0], "access_grant", 0) is None
    own, standing = access.case_roles(found[0], outsider)
    assert own == {} and standing == {"head_of_unit"}
    identity.revoke_delegation(act(head), delegation)
    assert access.visible_case(case.pk, outsider) is None


# --- costs ------------------------------------------------------------------------------------


def test_reading_a_case_costs_what_it_did(
    system: Actor,
    authority: Authority,
    unit: OrgUnit,
    citizen: User,
    clerk: User,
    outsider: User,
    django_assert_num_queries: Any,
) -> None:
    case = submit(handled_by(system, authority, unit), citizen)
    with django_assert_num_queries(2):  # the case, the seats
        assert access.visible_case(case.pk, clerk) is not None
    with django_assert_num_queries(3):  # … and the timeline
        assert queries.case_with_timeline(case.pk, clerk) is not None
    with django_assert_num_queries(1):  # the applicant: the case only
        assert access.visible_case(case.pk, citizen) is not None
    with django_assert_num_queries(3):  # the case, the seats, a grant (there is none)
        assert access.visible_case(case.pk, outsider) is None
    found = access.visible_case(case.pk, clerk)
    assert found is not None
    with django_assert_num_queries(0):  # the page's roles: the seats are in hand
        assert access.case_roles(found[0], clerk) == ({"clerk": unit.pk}, set())


def test_the_queue_costs_three_queries_whatever_the_seats(
    system: Actor,
    authority: Authority,
    unit: OrgUnit,
    general: OrgUnit,
    citizen: User,
    clerk: User,
    django_assert_num_queries: Any,
) -> None:
    mine = submit(handled_by(system, authority, unit), citizen)
    submit(handled_by(system, authority, general), citizen)  # another unit's
    submit(handled_by(system, authority, unit, "secret"), citizen)  # above the clearance
    anywhere = submit(handled_by(system, authority, None), citizen)
    # A second seat in another unit, and a head's seat: still one query for the seats.
    identity.add_official(
        system,
        email=clerk.email,
        full_name=clerk.full_name,
        unit=general,
        role=Role.APPROVER,
        password=None,
    )
    with django_assert_num_queries(3):
        items = queries.work_queue(clerk)
    assert sorted(i.case.pk for i in items) == sorted([mine.pk, anywhere.pk])
    # The dashboard's counts agree with the queue.
    from salter.cases.official_views import queue_counts

    with django_assert_num_queries(2):
        counts = queue_counts(clerk)
    assert counts[authority.pk]["total"] == 2


def test_escalations_cost_what_they_did(
    system: Actor,
    authority: Authority,
    unit: OrgUnit,
    general: OrgUnit,
    citizen: User,
    head: User,
    django_assert_num_queries: Any,
) -> None:
    cases = [
        submit(handled_by(system, authority, unit), citizen),
        submit(handled_by(system, authority, general), citizen),
        submit(handled_by(system, authority, unit, "confidential"), citizen),
    ]
    Task.objects.filter(case__in=cases).update(
        escalated_at=timezone.now(), due_at=today() - timedelta(days=1)
    )
    with django_assert_num_queries(3):  # the head's seats, the units, the count
        assert queries.escalated_count(head) == 1
    with django_assert_num_queries(4):  # … the tasks, the definitions
        assert [i.case.pk for i in queries.escalated_tasks(head)] == [cases[0].pk]


# --- the handling unit of a service -----------------------------------------------------------


def test_the_administrator_chooses_the_handling_unit_of_a_new_service(
    system: Actor,
    authority: Authority,
    unit: OrgUnit,
    make_official: MakeOfficial,
) -> None:
    admin = make_official("admin@surdulica.demo", "Админ", Role.AUTHORITY_ADMIN)
    other = authorities.create_authority(system, code="apr", name="АПР", kind="agency")
    foreign = authorities.create_unit(system, other, code="hr", name="Кадрови")
    client = signed_in(admin)
    new = reverse("official:catalog_service_new")
    form = client.get(new).content.decode()
    assert 'name="unit"' in form and "Any unit of the authority" in form
    fields = {
        "authority": authority.pk,
        "code": "parking_permit",
        "name": "Паркинг дозвола",
        "kind": "administrative",
        "min_level_of_assurance": "2",
    }
    refused = client.post(new, {**fields, "unit": foreign.pk})  # not among the choices
    assert refused.status_code == 400
    assert client.post(new, {**fields, "unit": unit.pk}).status_code == 302
    made = ServiceVersion.objects.get(service__code="parking_permit").service
    assert made.unit_id == unit.pk  # its cases take it when they are submitted
    audit = AuditEvent.objects.get(action="service.created", object_id=str(made.pk))
    assert audit.payload["unit"] == "social"
    catalog.set_unit(act(admin), made, None)
    made.refresh_from_db()
    assert made.unit_id is None
    assert AuditEvent.objects.filter(action="service.unit_changed").count() == 1


def test_only_those_who_can_open_the_case_hear_of_it(
    system: Actor,
    authority: Authority,
    unit: OrgUnit,
    general: OrgUnit,
    citizen: User,
    clerk: User,
    head: User,
    make_official: MakeOfficial,
) -> None:
    from salter.mailbox.models import Notification

    other_head = make_official("sef2@surdulica.demo", "Други Шеф", Role.HEAD_OF_UNIT, general)
    case = submit(handled_by(system, authority, unit), citizen)
    services.take_transition(act(clerk), case, "start_review")
    services.take_transition(
        act(clerk),
        case,
        "draft_decision",
        inputs={"decision_outcome": "granted", "decision_reasoning": "Услови су испуњени."},
    )
    told = set(Notification.objects.filter(case=case).values_list("recipient_id", flat=True))
    assert head.pk in told and other_head.pk not in told
