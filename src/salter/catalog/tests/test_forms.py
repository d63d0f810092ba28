"""The applicant's form built from a definition: rendering, server validation, the preview."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from conftest import add_totp
from django.db import connection
from django.http import QueryDict
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from salter.authorities import services as authority_services
from salter.authorities.models import Authority, OrgUnit
from salter.catalog import pilots
from salter.catalog.forms import ServiceForm
from salter.catalog.models import ServiceVersion
from salter.core.context import Actor
from salter.identity import services as identity_services
from salter.identity.models import Role, User
from salter.identity.validators import jmbg_check_digit

NEWBORN = pilots.NEWBORN_AID.definition()
OVERTIME = pilots.OVERTIME.definition()


def jmbg(birth: str = "0101990", region_serial: str = "71000") -> str:
    """A valid JMBG: the first serial whose check digit exists."""
    for serial in range(int(region_serial), int(region_serial) + 20):
        first12 = f"{birth}{serial:05d}"
        digit = jmbg_check_digit(first12)
        if digit is not None:
            return f"{first12}{digit}"
    raise AssertionError("no valid JMBG")


def post(**values: Any) -> QueryDict:
    query = QueryDict(mutable=True)
    for name, value in values.items():
        query.setlist(name, value if isinstance(value, list) else [value])
    return query


PARENT = {
    "parent_name": "Јована Јовановић",
    "parent_jmbg": jmbg(),
    "parent_address": "Краља Петра 1, Сурдулица",
    "parent_email": "jovana@example.rs",
    "bank_account": "160-0000000012345-67",
}
CHILD = {"child_name": "Лука Јовановић", "child_jmbg": jmbg("1503024"), "child_birth_date": ""}


# --- rendering ------------------------------------------------------------------------------


def test_steps_fields_and_widgets_of_the_newborn_pilot() -> None:
    form = ServiceForm(NEWBORN)
    assert form.count == 3
    step = form.render(1, {})
    assert (step.number, step.count, step.id, step.title) == (1, 3, "parent", "The parent")
    assert [s.current for s in step.steps] == [True, False, False]
    fields = {f.name: f for f in step.fields}
    assert list(fields) == [
        "parent_name", "parent_jmbg", "parent_address", "parent_email", "bank_account",
    ]  # fmt: skip
    assert fields["parent_jmbg"].widget == "jmbg"
    assert fields["parent_jmbg"].inputmode == "numeric"
    assert fields["parent_jmbg"].help == "Thirteen digits."
    assert fields["parent_jmbg"].describedby == "id_parent_jmbg_helptext"
    assert fields["parent_email"].input_type == "email"
    assert fields["parent_email"].autocomplete == "email"
    assert all(f.required for f in fields.values())
    assert step.is_first and not step.is_last


def test_labels_follow_the_language() -> None:
    with translation.override("sr"):
        assert ServiceForm(NEWBORN).render(1, {}).fields[0].label == "Име и презиме родитеља"
    with translation.override("sr-latn"):  # Cyrillic: the site transliterates the page
        assert ServiceForm(NEWBORN).render(2, {}).title == "Подаци о детету"
    assert ServiceForm(NEWBORN, "en").render(1, {}).fields[0].label == "Parent's full name"


def test_choices_from_enum_and_one_of() -> None:
    definition = copy.deepcopy(OVERTIME)
    props = definition["form"]["schema"]["properties"]
    props["shift"] = {"enum": ["morning", "evening"]}
    props["place"] = {
        "type": "string",
        "oneOf": [
            {"const": "office", "x-title": {"sr": "Канцеларија", "en": "Office"}},
            {"const": "home", "title": "Home"},
        ],
    }
    definition["form"]["ui"]["steps"][0]["fields"] += ["shift", "place"]
    definition["form"]["ui"]["fields"]["place"] = {"widget": "select"}
    form = ServiceForm(definition)
    fields = {f.name: f for f in form.render(1, {"place": "home"}).fields}
    assert fields["shift"].widget == "radio" and fields["shift"].is_group
    assert [(c.value, c.label) for c in fields["shift"].choices] == [
        ("morning", "morning"),
        ("evening", "evening"),
    ]
    assert fields["shift"].anchor == "id_shift_0"
    assert [(c.label, c.selected) for c in fields["place"].choices] == [
        ("Office", False),
        ("Home", True),
    ]
    cleaned = form.clean_step(1, post(shift="night", place="office"), {})
    assert cleaned.errors["shift"] == "Choose one of the options."
    assert cleaned.data["place"] == "office"


# --- validation -----------------------------------------------------------------------------


def test_a_missing_required_field_in_english_and_serbian() -> None:
    for language, message in [("en", "Fill in this field."), ("sr", "Попуните ово поље.")]:
        with translation.override(language):
            cleaned = ServiceForm(NEWBORN).clean_step(1, post(), {})
        assert set(cleaned.errors) == set(PARENT)
        assert cleaned.errors["parent_name"] == message, language


def test_a_wrong_jmbg_gets_the_jmbg_validators_message() -> None:
    wrong = PARENT["parent_jmbg"][:12] + str((int(PARENT["parent_jmbg"][12]) + 1) % 10)
    cleaned = ServiceForm(NEWBORN).clean_step(1, post(**{**PARENT, "parent_jmbg": wrong}), {})
    assert cleaned.errors == {
        "parent_jmbg": "This JMBG's check digit is wrong: please check each digit."
    }
    short = ServiceForm(NEWBORN).clean_step(1, post(**{**PARENT, "parent_jmbg": "123"}), {})
    assert short.errors["parent_jmbg"] == "JMBG has 13 digits; you entered 3."
    with translation.override("sr"):
        serbian = ServiceForm(NEWBORN).clean_step(1, post(**{**PARENT, "parent_jmbg": wrong}), {})
    assert "ЈМБГ" in serbian.errors["parent_jmbg"]


def test_one_message_per_field_and_never_jsonschemas_english() -> None:
    cleaned = ServiceForm(NEWBORN).clean_step(
        1, post(**{**PARENT, "parent_name": "A", "bank_account": "not a number"}), {}
    )
    assert cleaned.errors == {
        "parent_name": "Enter at least 3 characters.",
        "bank_account": "This is not in the expected form; please check it.",
    }
    assert "parent_name" not in cleaned.data
    assert cleaned.raw["parent_name"] == "A"  # shown again as typed


def test_numbers_are_converted_and_limits_checked() -> None:
    form = ServiceForm(OVERTIME)
    base = {"date": "2025-03-14", "reason": "Годишњи обрачун мора бити готов."}
    assert form.clean_step(1, post(**base, planned_hours="0"), {}).errors == {
        "planned_hours": "Enter a number greater than 0."
    }
    assert form.clean_step(1, post(**base, planned_hours="5"), {}).errors == {
        "planned_hours": "Enter a number of at most 4."
    }
    assert form.clean_step(1, post(**base, planned_hours="two"), {}).errors == {
        "planned_hours": "Enter a number, for example 2 or 2,5."
    }
    ok = form.clean_step(1, post(**base, planned_hours="2,5"), {})
    assert ok.ok and ok.data["planned_hours"] == 2.5
    assert form.clean_step(1, post(**base, planned_hours="3"), {}).data["planned_hours"] == 3


def test_a_number_below_the_minimum() -> None:
    definition = copy.deepcopy(OVERTIME)
    definition["form"]["schema"]["properties"]["planned_hours"] = {
        "type": "integer",
        "minimum": 1,
    }
    cleaned = ServiceForm(definition).clean_step(1, post(planned_hours="0"), {})
    assert cleaned.errors["planned_hours"] == "Enter a number of at least 1."
    half = ServiceForm(definition).clean_step(1, post(planned_hours="1.5"), {})
    assert half.errors["planned_hours"] == "Enter a whole number, for example 12."


def test_dates_and_email_addresses() -> None:
    form = ServiceForm(OVERTIME)
    for posted, expected in [("2024-02-29", "2024-02-29"), ("29.2.2024.", "2024-02-29")]:
        assert form.clean_step(1, post(date=posted), {}).data["date"] == expected
    for wrong in ["2023-02-29", "31.4.2024", "tomorrow"]:
        assert form.clean_step(1, post(date=wrong), {}).errors["date"] == (
            "Enter a real date, for example 31.12.2024."
        )
    newborn = ServiceForm(NEWBORN)
    for wrong in ["jovana", "jovana@", "a b@example.rs"]:
        cleaned = newborn.clean_step(1, post(**{**PARENT, "parent_email": wrong}), {})
        assert cleaned.errors == {
            "parent_email": "Enter an e-mail address like name@example.rs."
        }, wrong
    # The same checks hold for data that did not come through the steps (an API submission).
    whole = newborn.validate({**PARENT, "parent_email": "x", "child_birth_date": "2024-13-01"})
    assert whole.errors["parent_email"] == "Enter an e-mail address like name@example.rs."
    assert whole.errors["child_birth_date"] == "Enter a real date, for example 31.12.2024."


def test_show_if_hides_and_unrequires_a_field() -> None:
    definition = copy.deepcopy(NEWBORN)
    definition["form"]["schema"]["required"].append("birth_record_file")
    form = ServiceForm(definition)
    evidence = form.render(3, {})
    file_field = next(f for f in evidence.fields if f.name == "birth_record_file")
    # Same step as its condition: rendered with a note, decided when the step is posted.
    assert file_field.note == "Needed only if you tick “I will bring the evidence myself”."
    assert not file_field.required
    assert file_field.describedby == "id_birth_record_file_note"

    unticked = form.clean_step(3, post(birth_record_file="x"), {}, files={"birth_record_file": "x"})
    assert unticked.ok
    assert unticked.data == {"bring_evidence": False}  # the hidden field's value is dropped

    ticked = form.clean_step(3, post(bring_evidence="true"), {})
    assert ticked.errors == {"birth_record_file": "Choose a file."}
    with_file = form.clean_step(
        3, post(bring_evidence="true"), {}, files={"birth_record_file": "izvod.pdf"}
    )
    assert with_file.data == {"bring_evidence": True, "birth_record_file": "izvod.pdf"}

    whole = {**PARENT, **CHILD, "child_birth_date": "2024-03-15"}
    assert form.validate({**whole, "bring_evidence": False, "birth_record_file": "x"}).data == {
        **whole,
        "bring_evidence": False,
    }
    assert form.validate({**whole, "bring_evidence": True}).errors == {
        "birth_record_file": "Choose a file."
    }


def test_a_condition_on_an_earlier_step_is_decided_when_the_step_is_rendered() -> None:
    definition = copy.deepcopy(NEWBORN)
    ui = definition["form"]["ui"]
    ui["steps"][2]["fields"] = ["bring_evidence"]
    ui["steps"].append(
        {"id": "files", "title": {"sr": "Прилози", "en": "Files"}, "fields": ["birth_record_file"]}
    )
    form = ServiceForm(definition)
    assert [f.name for f in form.render(4, {"bring_evidence": False}).fields] == []
    shown = form.render(4, {"bring_evidence": True}).fields
    assert [f.name for f in shown] == ["birth_record_file"] and not shown[0].note


def test_multi_step_progression_to_a_valid_whole() -> None:
    form = ServiceForm(NEWBORN)
    data: dict[str, Any] = {}
    first = form.clean_step(1, post(**PARENT), data)
    assert first.ok, first.errors
    data.update(first.data)
    second = form.clean_step(2, post(**{**CHILD, "child_birth_date": "2024-03-15"}), data)
    assert second.ok, second.errors
    data.update(second.data)
    third = form.clean_step(3, post(), data)
    assert third.ok
    data.update(third.data)
    whole = form.validate(data)
    assert whole.ok, whole.errors
    assert whole.data["child_birth_date"] == "2024-03-15"
    assert whole.data["bring_evidence"] is False
    assert ("Child's date of birth", "2024-03-15") in form.summary(whole.data)
    assert ("I will bring the evidence myself", "No") in form.summary(whole.data)
    # Skipping a step is caught by the whole form, which points at the first step concerned.
    skipped = form.validate({k: v for k, v in data.items() if not k.startswith("child")})
    assert form.first_step_with_error(skipped.errors) == 2


def test_both_pilots_render_every_step() -> None:
    for definition in (NEWBORN, OVERTIME):
        form = ServiceForm(definition)
        for number in range(1, form.count + 1):
            assert form.render(number, {}).fields
        assert form.render(form.count, {}).is_last
        assert form.step_number("99") == form.count and form.step_number("x") == 1


# --- the preview page -----------------------------------------------------------------------


@pytest.fixture
def preview_url(published: ServiceVersion) -> str:
    return reverse(
        "official:catalog_preview",
        kwargs={"service_id": published.service_id, "number": published.number},
    )


def _at_loa2(client: Client, user: User) -> Client:
    add_totp(user)
    client.force_login(user)
    session = client.session
    session["salter_loa"] = 2
    session.save()
    return client


@pytest.fixture
def authority_admin(unit: OrgUnit, system: Actor) -> User:
    return identity_services.add_official(
        system,
        email="admin@surdulica.demo",
        full_name="Ана Администратор",
        unit=unit,
        role=Role.AUTHORITY_ADMIN,
        password="x" * 20,
    ).user


@pytest.mark.django_db
def test_preview_is_for_administrators_of_the_authority(
    client: Client,
    preview_url: str,
    citizen: User,
    official: User,
    authority_admin: User,
    system: Actor,
) -> None:
    anonymous = Client().get(preview_url)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert _at_loa2(Client(), citizen).get(preview_url).status_code == 403
    assert _at_loa2(Client(), official).get(preview_url).status_code == 403  # a clerk

    other = authority_services.create_authority(
        system, code="vranje", name="Град Врање", kind=Authority.Kind.LOCAL_GOVERNMENT
    )
    other_unit = authority_services.create_unit(system, other, code="it", name="ИТ")
    stranger = identity_services.add_official(
        system,
        email="admin@vranje.demo",
        full_name="Други Администратор",
        unit=other_unit,
        role=Role.AUTHORITY_ADMIN,
        password="x" * 20,
    ).user
    assert _at_loa2(Client(), stranger).get(preview_url).status_code == 403

    page = _at_loa2(client, authority_admin).get(preview_url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'aria-current="step"' in html and "id_parent_jmbg_helptext" in html
    assert 'inputmode="numeric"' in html
    missing = reverse(
        "official:catalog_preview", kwargs={"service_id": preview_url and 999, "number": 1}
    )
    assert client.get(missing).status_code == 404


@pytest.mark.django_db
def test_preview_steps_through_the_form_and_saves_nothing(
    client: Client, preview_url: str, authority_admin: User
) -> None:
    from salter.audit.models import AuditEvent

    _at_loa2(client, authority_admin)
    events = AuditEvent.objects.count()

    empty = client.post(f"{preview_url}?step=1", {"action": "next"})
    assert empty.status_code == 200
    html = empty.content.decode()
    assert 'class="error-summary"' in html and 'href="#id_parent_name"' in html
    assert 'aria-invalid="true"' in html and "id_parent_name_error" in html

    step = client.post(f"{preview_url}?step=1", {**PARENT, "action": "next"})
    assert step.status_code == 302 and step["Location"].endswith("?step=2")
    back = client.post(f"{preview_url}?step=2", {"child_name": "Лука", "action": "back"})
    assert back["Location"].endswith("?step=1")
    again = client.get(f"{preview_url}?step=1").content.decode()
    assert PARENT["parent_jmbg"] in again  # the answers are kept
    child = {**CHILD, "child_birth_date": "2024-03-15", "action": "next"}
    assert client.post(f"{preview_url}?step=2", child)["Location"].endswith("?step=3")
    done = client.post(f"{preview_url}?step=3", {"action": "next"})
    assert done["Location"].endswith("?step=done")
    summary = client.get(done["Location"]).content.decode()
    assert "Образац је попуњен" in summary and "Лука Јовановић" in summary

    assert AuditEvent.objects.count() == events  # nothing saved
    client.post(preview_url, {"action": "reset"})
    assert PARENT["parent_name"] not in client.get(f"{preview_url}?step=1").content.decode()


@pytest.mark.django_db
def test_preview_of_a_draft_that_is_not_valid_lists_its_problems(
    client: Client, published: ServiceVersion, authority_admin: User, system: Actor
) -> None:
    from salter.catalog import services

    draft = services.create_draft_version(system, published.service)
    broken = copy.deepcopy(draft.definition)
    broken["form"]["ui"]["steps"][0]["fields"].append("no_such_field")
    services.update_draft(system, draft, broken)
    url = reverse(
        "official:catalog_preview",
        kwargs={"service_id": draft.service_id, "number": draft.number},
    )
    page = _at_loa2(client, authority_admin).get(url)
    assert page.status_code == 200
    assert "/form/ui/steps/0/fields/5" in page.content.decode()


@pytest.mark.django_db
def test_preview_query_count_is_bounded(
    client: Client, preview_url: str, authority_admin: User
) -> None:
    _at_loa2(client, authority_admin)
    client.get(f"{preview_url}?step=1")  # warm up the session
    for step in ("1", "2", "3"):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"{preview_url}?step={step}").status_code == 200
        # The session, the version with its service and authority, the membership (the user
        # comes from the authentication cache; one more query without it).
        assert len(queries) <= 4, [q["sql"] for q in queries.captured_queries]


@pytest.mark.django_db
def test_on_a_latin_page_the_labels_are_transliterated_but_not_the_answers(
    client: Client, preview_url: str, authority_admin: User
) -> None:
    _at_loa2(client, authority_admin)
    client.cookies["salter_language"] = "sr-latn"
    client.post(f"{preview_url}?step=1", {"parent_name": "Јована", "action": "next"})
    html = client.get(f"{preview_url}?step=1").content.decode()
    assert "Ime i prezime roditelja" in html and "Korak 1 od 3" in html
    assert 'value="Јована"' in html
