"""Access to one case given to an official who would not otherwise read it: who may give it,
what it allows (reading, never acting), its end, its audit trail and the page that manages it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from salter.audit.models import AuditEvent
from salter.authorities import services as authorities
from salter.authorities.models import Authority, OrgUnit
from salter.cases import access, grants, queries, services
from salter.cases.models import Case, CaseEvent, CaseGrant, Task
from salter.core.context import Actor
from salter.identity import services as identity
from salter.identity.models import Role, User

from .conftest import MakeOfficial, act
from .test_api import CASES, token
from .test_confidentiality import handled_by, submit
from .test_official_views import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(system: Actor, authority: Authority, unit: OrgUnit, citizen: User) -> Case:
    """A confidential case of the social affairs unit."""
    return submit(handled_by(system, authority, unit, "confidential"), citizen)


@pytest.fixture
def inspector(system: Actor) -> User:
    """An official of another authority (an inspectorate)."""
    other = authorities.create_authority(
        system, code="inspekcija", name="Управна инспекција", kind="agency"
    )
    unit = authorities.create_unit(system, other, code="insp", name="Инспектори")
    return identity.add_official(
        system,
        email="inspektor@mduls.demo",
        full_name="Иван Инспектор",
        unit=unit,
        role=Role.CLERK,
        password=None,
    ).user


@pytest.fixture
def chief(make_official: MakeOfficial, system: Actor) -> User:
    """The head of the case's unit, cleared for its level."""
    user = make_official("sef@surdulica.demo", "Бранко Шефовић", Role.HEAD_OF_UNIT)
    identity.add_official(
        system,
        email=user.email,
        full_name=user.full_name,
        unit=user.memberships.get().unit,
        role=Role.HEAD_OF_UNIT,
        password=None,
        clearance="confidential",
    )
    return user


def later(**delta: float) -> Any:
    return timezone.now() + timedelta(**delta)


def test_a_grant_lets_an_official_read_the_case_and_nothing_more(
    case: Case, chief: User, inspector: User, clerk: User
) -> None:
    assert access.visible_case(case.pk, inspector) is None
    grant = grants.grant_access(
        act(chief), case, inspector, reason="Управни надзор по пријави.", valid_until=later(days=7)
    )
    found = access.visible_case(case.pk, inspector)
    assert found is not None and found[1]
    assert getattr(found[0], "access_grant", None) == grant
    assert not getattr(found[0], "may_grant_access", True)

    page = signed_in(inspector).get(reverse("official:case", args=[case.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "You read this case under access given by Бранко Шефовић" in html
    assert "Claim the task" not in html and "Who else may read this case" not in html
    api = Client().get(f"{CASES}/{case.pk}", headers=token(inspector, "read"))
    assert api.status_code == 200

    # Reading only: no step, no claim, no comment — on the page, in the API, in the services.
    with pytest.raises(PermissionDenied):
        services.take_transition(act(inspector), case, "start_review")
    with pytest.raises(PermissionDenied):
        services.claim(act(inspector), Task.objects.get(case=case))
    with pytest.raises(PermissionDenied):
        services.comment(act(inspector), case, "Примедба.")
    refused = Client().post(
        f"{CASES}/{case.pk}/transitions/start_review",
        {},
        content_type="application/json",
        headers=token(inspector),
    )
    assert refused.status_code in (403, 404)
    assert inspector.pk not in {u.pk for u in services.assignable(case, ["clerk"])}
    case.refresh_from_db()
    assert case.state == "submitted"

    # Trail: the audit event and an internal event on the timeline (never the applicant's).
    event = AuditEvent.objects.get(action="cases.access_granted")
    assert event.payload["case"] == case.pk and event.payload["grantee"] == inspector.pk
    assert event.payload["reason"] == "Управни надзор по пријави."
    assert event.payload["hidden_until"] is None
    on_timeline = case.events.get(kind=CaseEvent.Kind.ACCESS_GRANTED)
    assert on_timeline.internal and on_timeline.actor == chief
    assert on_timeline.payload["grantee"] == inspector.pk
    applicant_view = queries.case_with_timeline(case.pk, case.applicant)
    assert applicant_view is not None
    assert CaseEvent.Kind.ACCESS_GRANTED not in {e.kind for e in applicant_view.events}
    # The clerk of the unit (cleared below the case) is not helped by someone else's grant.
    assert access.visible_case(case.pk, clerk) is None


def test_revoked_and_expired_grants_read_nothing(
    case: Case, chief: User, inspector: User, django_assert_num_queries: Any
) -> None:
    grant = grants.grant_access(act(chief), case, inspector, reason="Савет.")
    with django_assert_num_queries(3):  # the case, the seats, the grant
        assert access.visible_case(case.pk, inspector) is not None
    revoked = grants.revoke_access(act(chief), grant)
    assert revoked.revoked_at is not None and revoked.revoked_by == chief
    assert grants.revoke_access(act(chief), grant).revoked_at == revoked.revoked_at  # once
    assert access.visible_case(case.pk, inspector) is None
    assert signed_in(inspector).get(reverse("official:case", args=[case.pk])).status_code == 404
    audit = AuditEvent.objects.get(action="cases.access_revoked")
    assert audit.payload["grantee"] == inspector.pk
    assert case.events.filter(kind=CaseEvent.Kind.ACCESS_REVOKED, internal=True).count() == 1

    # A grant that ran out is as good as none; a new one may then be given.
    again = grants.grant_access(
        act(chief), case, inspector, reason="Поново.", valid_until=later(hours=1)
    )
    assert access.visible_case(case.pk, inspector) is not None
    CaseGrant.objects.filter(pk=again.pk).update(valid_until=later(seconds=-1))
    assert access.visible_case(case.pk, inspector) is None
    assert Client().get(f"{CASES}/{case.pk}", headers=token(inspector, "read")).status_code == 404


def test_only_a_head_or_administrator_who_sees_the_case_may_grant(
    case: Case,
    chief: User,
    inspector: User,
    clerk: User,
    make_official: MakeOfficial,
    system: Actor,
    authority: Authority,
) -> None:
    with pytest.raises(PermissionDenied):  # a clerk
        grants.grant_access(act(clerk), case, inspector, reason="x")
    general = authorities.create_unit(system, authority, code="general", name="Општа управа")
    other_head = make_official("sef2@surdulica.demo", "Други Шеф", Role.HEAD_OF_UNIT, general)
    with pytest.raises(PermissionDenied):  # a head of another unit
        grants.grant_access(act(other_head), case, inspector, reason="x")
    low_admin = make_official("admin@surdulica.demo", "Админ", Role.AUTHORITY_ADMIN, general)
    with pytest.raises(PermissionDenied):  # the administrator, cleared below the case
        grants.grant_access(act(low_admin), case, inspector, reason="x")
    identity.set_clearance(system, low_admin.memberships.get(), "secret")
    made = grants.grant_access(act(low_admin), case, inspector, reason="Надзор.")
    with pytest.raises(PermissionDenied):  # revoking is the granters' too
        grants.revoke_access(act(clerk), made)
    with pytest.raises(PermissionDenied):
        grants.grant_access(act(inspector), case, clerk, reason="x")  # a grantee never grants
    assert CaseGrant.objects.count() == 1


def test_what_a_grant_needs(
    case: Case, chief: User, inspector: User, citizen: User, make_official: MakeOfficial
) -> None:
    def refused(user: User, **values: Any) -> dict[str, list[str]]:
        values.setdefault("reason", "Провера.")
        with pytest.raises(ValidationError) as caught:
            grants.grant_access(act(chief), case, user, **values)
        return caught.value.message_dict

    assert "reason" in refused(inspector, reason="   ")
    assert "reason" in refused(inspector, reason="x" * (grants.MAX_REASON + 1))
    assert "user" in refused(citizen)  # an applicant, not an official
    assert "user" in refused(chief)  # oneself
    colleague = make_official("kolega@surdulica.demo", "Колега", Role.HEAD_OF_UNIT)
    identity.set_clearance(Actor.system("command"), colleague.memberships.get(), "secret")
    assert "user" in refused(colleague)  # already reads it through their role
    assert "valid_until" in refused(inspector, valid_until=later(minutes=-1))
    # An investigation hides the reads for a time: in the future, at most a year.
    assert "hidden_until" in refused(inspector, hidden_until=later(minutes=-1))
    assert "hidden_until" in refused(inspector, hidden_until=later(days=grants.MAX_HIDDEN_DAYS + 1))
    grant = grants.grant_access(
        act(chief), case, inspector, reason="Истрага.", hidden_until=later(days=90)
    )
    assert grant.hidden_until is not None
    found = access.visible_case(case.pk, inspector)
    assert found is not None
    assert getattr(found[0], "access_grant", None) == grant  # reads carry its hidden-until
    audit = AuditEvent.objects.get(action="cases.access_granted")
    assert audit.payload["hidden_until"] == grant.hidden_until.isoformat()
    assert "user" in refused(inspector)  # one grant in force at a time
    assert CaseGrant.objects.count() == 1


# --- the page ---------------------------------------------------------------------------------


def test_the_head_gives_and_revokes_access_on_the_page(
    case: Case, chief: User, inspector: User, clerk: User
) -> None:
    url = reverse("official:case_access", args=[case.pk])
    client = signed_in(chief)
    case_page = client.get(reverse("official:case", args=[case.pk])).content.decode()
    assert url in case_page  # "Who else may read this case"
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Nobody outside the unit has been given access." in html
    assert 'name="csrfmiddlewaretoken"' in html and 'for="g-email"' in html

    wrong = client.post(url, {"email": "nobody@example.rs", "reason": "", "hidden_until": "x"})
    assert wrong.status_code == 400
    html = wrong.content.decode()
    assert "No official has this e-mail address." in html
    assert "Write why this official needs to read the case." in html
    assert "Enter a date as YYYY-MM-DD." in html
    assert html.count('aria-invalid="true"') == 3
    past = (timezone.localdate() - timedelta(days=1)).isoformat()
    too_late = client.post(
        url, {"email": inspector.email, "reason": "Надзор.", "hidden_until": past}
    )
    assert too_late.status_code == 400
    assert "must be in the future" in too_late.content.decode()

    until = (timezone.localdate() + timedelta(days=10)).isoformat()
    done = client.post(
        url,
        {"email": inspector.email.upper(), "reason": "Надзор.", "valid_until": until},
        follow=True,
    )
    assert done.status_code == 200
    assert "Иван Инспектор may now read this case." in done.content.decode()
    grant = CaseGrant.objects.get()
    assert grant.user == inspector and grant.granted_by == chief
    assert timezone.localtime(grant.valid_until).date().isoformat() > until  # the whole last day
    assert signed_in(inspector).get(reverse("official:case", args=[case.pk])).status_code == 200

    revoke = reverse("official:case_access_revoke", args=[case.pk, grant.pk])
    assert signed_in(clerk).post(revoke).status_code == 404  # not theirs to manage
    assert client.post(revoke).status_code == 302
    assert CaseGrant.objects.get().revoked_at is not None
    assert "revoked" in client.get(url).content.decode()
    assert signed_in(inspector).get(reverse("official:case", args=[case.pk])).status_code == 404


def test_the_page_is_the_granters_only_and_needs_a_csrf_token(
    case: Case, chief: User, inspector: User, clerk: User
) -> None:
    url = reverse("official:case_access", args=[case.pk])
    grants.grant_access(act(chief), case, inspector, reason="Надзор.")
    for user in (clerk, inspector):  # below the clearance; reading under a grant
        assert signed_in(user).get(url).status_code == 404
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    strict = signed_in(chief)
    strict.handler.enforce_csrf_checks = True
    assert strict.post(url, {"email": clerk.email, "reason": "x"}).status_code == 403
    assert CaseGrant.objects.count() == 1
