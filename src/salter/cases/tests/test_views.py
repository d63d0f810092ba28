"""The applicant's pages: apply step by step, submit once, my cases, a case, withdraw."""

from __future__ import annotations

import re

import pytest
from conftest import PASSWORD, add_totp
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from salter.cases import services
from salter.cases.models import Case, Draft
from salter.catalog.models import ServiceVersion
from salter.identity import loa
from salter.identity.models import User
from salter.identity.validators import jmbg_check_digit

from .conftest import NEWBORN_FORM, act

pytestmark = pytest.mark.django_db


def valid_jmbg(first12: str) -> str:
    digit = jmbg_check_digit(first12)
    assert digit is not None
    return f"{first12}{digit}"


STEP1 = {
    **{k: NEWBORN_FORM[k] for k in ("parent_name", "parent_address", "parent_email")},
    "bank_account": NEWBORN_FORM["bank_account"],
    "parent_jmbg": valid_jmbg("010199071000"),
}
STEP2 = {
    "child_name": NEWBORN_FORM["child_name"],
    "child_birth_date": NEWBORN_FORM["child_birth_date"],
    "child_jmbg": valid_jmbg("150302471000"),
}
KEY = re.compile(r'name="idempotency_key" value="([0-9a-f]{32})"')


def at_level(client: Client, user: User, level: int = loa.TWO_FACTOR) -> Client:
    if level >= loa.TWO_FACTOR:
        add_totp(user)
    client.force_login(user)
    session = client.session
    session[loa.SESSION_KEY] = level
    session.save()
    return client


def apply_url(version: ServiceVersion) -> str:
    service = version.service
    return reverse("cases:apply", args=[service.authority.code, service.code])


def fill_in(client: Client, url: str) -> str:
    """Post every step; the idempotency key of the summary page."""
    assert client.post(f"{url}?step=1", {"action": "next", **STEP1})["Location"].endswith("?step=2")
    assert client.post(f"{url}?step=2", {"action": "next", **STEP2})["Location"].endswith("?step=3")
    response = client.post(f"{url}?step=3", {"action": "next"})
    assert response["Location"].endswith("?step=review")
    summary = client.get(f"{url}?step=review")
    assert summary.status_code == 200
    assert NEWBORN_FORM["child_name"] in summary.content.decode()
    match = KEY.search(summary.content.decode())
    assert match is not None
    return match.group(1)


def test_anonymous_users_log_in_first(client: Client, newborn_aid: ServiceVersion) -> None:
    for url in [apply_url(newborn_aid), reverse("cases:list"), "/cases/1/", "/cases/1/withdraw/"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("identity:login")), url


def test_the_service_level_of_assurance_asks_for_a_step_up(
    client: Client, newborn_aid: ServiceVersion, citizen: User
) -> None:
    at_level(client, citizen, loa.PASSWORD)
    url = apply_url(newborn_aid)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("identity:step_up"))
    assert "level=2" in response["Location"]


def test_an_unknown_service_is_404(client: Client, citizen: User) -> None:
    at_level(client, citizen)
    assert client.get("/services/nowhere/nothing/apply/").status_code == 404


def test_invalid_answers_re_render_the_step_with_one_message_per_field(
    client: Client, newborn_aid: ServiceVersion, citizen: User
) -> None:
    at_level(client, citizen)
    url = apply_url(newborn_aid)
    response = client.post(
        f"{url}?step=1", {"action": "next", **STEP1, "parent_jmbg": "123", "parent_name": ""}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="error-summary"' in page
    assert 'id="id_parent_name_error"' in page
    assert 'id="id_parent_jmbg_error"' in page
    assert 'id="id_parent_email_error"' not in page
    assert NEWBORN_FORM["parent_address"] in page  # what was typed is kept


def test_the_draft_is_kept_in_the_database_and_can_be_discarded(
    client: Client, newborn_aid: ServiceVersion, citizen: User
) -> None:
    at_level(client, citizen)
    url = apply_url(newborn_aid)
    client.post(f"{url}?step=1", {"action": "next", **STEP1})
    assert NEWBORN_FORM["parent_address"] in client.get(f"{url}?step=1").content.decode()
    # Another device, another session: the draft is there, and listed under my cases.
    phone = at_level(Client(headers={"accept-language": "en"}), citizen)
    assert NEWBORN_FORM["parent_address"] in phone.get(f"{url}?step=1").content.decode()
    listed = phone.get(reverse("cases:list")).content.decode()
    assert "Applications not yet submitted" in listed and url in listed
    draft = Draft.objects.get(applicant=citizen)
    assert (draft.service_version, draft.step) == (newborn_aid, 2)
    # The summary before the form is complete sends the applicant to the first gap.
    response = client.get(f"{url}?step=review")
    assert 'id="id_child_name_error"' in response.content.decode()
    client.post(url, {"action": "reset"})
    assert NEWBORN_FORM["parent_address"] not in client.get(f"{url}?step=1").content.decode()


def test_submitting_twice_with_one_key_makes_one_case(
    client: Client, newborn_aid: ServiceVersion, citizen: User
) -> None:
    at_level(client, citizen)
    url = apply_url(newborn_aid)
    key = fill_in(client, url)
    first = client.post(url, {"action": "submit", "idempotency_key": key}, follow=True)
    case = Case.objects.get(applicant=citizen)
    assert first.redirect_chain[-1][0] == reverse("cases:detail", args=[case.pk])
    assert case.registry_number in "".join(str(m) for m in first.context["messages"])
    assert case.data["child_name"] == NEWBORN_FORM["child_name"]
    again = client.post(url, {"action": "submit", "idempotency_key": key})
    assert again["Location"] == reverse("cases:detail", args=[case.pk])
    assert Case.objects.filter(applicant=citizen).count() == 1
    # The draft is gone (in the submission's transaction): a new application starts empty.
    assert not Draft.objects.filter(applicant=citizen).exists()
    assert NEWBORN_FORM["parent_address"] not in client.get(f"{url}?step=1").content.decode()
    # A new summary page gets a new key and so a new case.
    second_key = fill_in(client, url)
    assert second_key != key
    client.post(url, {"action": "submit", "idempotency_key": second_key})
    assert Case.objects.filter(applicant=citizen).count() == 2


def test_a_submission_without_a_valid_key_shows_the_summary_again(
    client: Client, newborn_aid: ServiceVersion, citizen: User
) -> None:
    at_level(client, citizen)
    url = apply_url(newborn_aid)
    fill_in(client, url)
    response = client.post(url, {"action": "submit", "idempotency_key": "nope"})
    assert response.status_code == 200
    assert KEY.search(response.content.decode())
    assert not Case.objects.exists()


def test_an_internal_procedure_is_only_for_staff(
    client: Client, overtime: ServiceVersion, citizen: User
) -> None:
    at_level(client, citizen)
    assert client.get(apply_url(overtime)).status_code == 403


def test_my_cases_in_a_constant_number_of_queries(
    client: Client, newborn_aid: ServiceVersion, citizen: User
) -> None:
    at_level(client, citizen)
    first, _ = services.submit(act(citizen), newborn_aid, NEWBORN_FORM)

    def queries() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("cases:list"))
        assert response.status_code == 200
        return len(captured), response.content.decode()

    queries()  # warm the caches
    one, page = queries()
    assert first.registry_number in page
    more = [services.submit(act(citizen), newborn_aid, NEWBORN_FORM)[0] for _ in range(4)]
    five, page = queries()
    assert five == one
    for case in more:
        assert case.registry_number in page
        assert reverse("cases:detail", args=[case.pk]) in page


def test_the_case_page_shows_the_public_timeline_only(
    client: Client, newborn_aid: ServiceVersion, citizen: User, clerk: User
) -> None:
    case, _ = services.submit(act(citizen), newborn_aid, NEWBORN_FORM)
    at_level(client, citizen)
    url = reverse("cases:detail", args=[case.pk])
    client.get(url)  # warm the caches
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    services.take_transition(act(clerk), case, "start_review")
    services.comment(act(clerk), case, "Само за нас.")
    services.comment(act(clerk), case, "Примљено, радимо на томе.", internal=False)
    with CaptureQueriesContext(connection) as after:
        response = client.get(url)
    assert len(after) == len(before)
    page = response.content.decode()
    assert case.registry_number in page
    assert "Примљено, радимо на томе." in page
    assert "Само за нас." not in page
    assert reverse("cases:withdraw", args=[case.pk]) in page


def test_someone_elses_case_is_404(
    client: Client, newborn_aid: ServiceVersion, citizen: User
) -> None:
    case, _ = services.submit(act(citizen), newborn_aid, NEWBORN_FORM)
    other = User.objects.create_user("other@example.rs", PASSWORD, full_name="Друга Особа")
    at_level(client, other)
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 404
    assert client.get(reverse("cases:withdraw", args=[case.pk])).status_code == 404
    assert client.post(reverse("cases:withdraw", args=[case.pk])).status_code == 404
    assert client.get("/cases/999999/").status_code == 404
    case.refresh_from_db()
    assert case.closed_at is None
    assert case.registry_number not in client.get(reverse("cases:list")).content.decode()


def test_withdraw_after_confirmation(
    client: Client, newborn_aid: ServiceVersion, citizen: User
) -> None:
    case, _ = services.submit(act(citizen), newborn_aid, NEWBORN_FORM)
    at_level(client, citizen)
    url = reverse("cases:withdraw", args=[case.pk])
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert f'action="{url}"' in confirm.content.decode()
    response = client.post(url, follow=True)
    case.refresh_from_db()
    assert case.state == "withdrawn"
    assert case.closed_at is not None
    assert url not in response.content.decode()  # no button any more
    # Withdrawing again is refused with a message, not an error page.
    again = client.post(url, follow=True)
    assert again.status_code == 200
    assert list(again.context["messages"])
    assert client.get(url)["Location"] == reverse("cases:detail", args=[case.pk])


def test_home_links_each_service_to_its_apply_page(
    client: Client, newborn_aid: ServiceVersion, citizen: User
) -> None:
    page = client.get("/").content.decode()
    assert f'href="{apply_url(newborn_aid)}"' in page
    assert reverse("cases:list") not in page  # the header link is for logged-in users
    client.force_login(citizen)
    assert f'href="{reverse("cases:list")}"' in client.get("/").content.decode()
