"""Personal identifiers at rest: encryption, keyed hashes, lookups and key rotation."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from salter.cases.models import Case
from salter.cases.services import submit
from salter.cases.tests.conftest import NEWBORN_FORM, newborn_aid  # noqa: F401, F811
from salter.catalog.models import ServiceVersion
from salter.core import pii
from salter.core.context import Actor
from salter.core.rotation import rotate_all
from salter.identity.models import Person, User

JMBG = "0101990710008"
OLD = "dev:ZGV2ZWxvcG1lbnQtb25seS1ub3Qtc2VjcmV0LXBpaS1rZXk"
NEW = "k2:" + base64.urlsafe_b64encode(b"n" * 32).decode().rstrip("=")


def _raw(table: str, column: str, pk: int) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


@given(st.text(min_size=1, max_size=60).filter(lambda s: "".join(s.split()) != ""))
def test_a_value_comes_back_as_it_went_in(value: str) -> None:
    token = pii.encrypt(value)
    assert token.startswith("pii1:dev:")
    assert pii.decrypt(token) == pii.normalise(value)


def test_the_same_number_encrypts_differently_each_time_but_hashes_the_same() -> None:
    assert pii.encrypt(JMBG) != pii.encrypt(JMBG)
    assert pii.blind(JMBG) == pii.blind(JMBG) == pii.blind(" 0101 990710008 ")
    assert JMBG not in pii.blind(JMBG)


def test_a_tampered_token_or_one_moved_to_another_key_is_refused(settings: Any) -> None:
    token = pii.encrypt(JMBG)
    body = base64.b64decode(token.rsplit(":", 1)[1])
    flipped = body[:-1] + bytes([body[-1] ^ 1])
    with pytest.raises(InvalidTag):
        pii.decrypt(token.rsplit(":", 1)[0] + ":" + base64.b64encode(flipped).decode())
    settings.SALTER_PII_KEYS = f"{NEW},{OLD}"
    moved = token.replace("pii1:dev:", "pii1:k2:")
    with pytest.raises(InvalidTag):
        pii.decrypt(moved)


def test_reading_data_under_a_key_no_longer_configured_says_which_key(settings: Any) -> None:
    token = pii.encrypt(JMBG)
    settings.SALTER_PII_KEYS = NEW
    with pytest.raises(ImproperlyConfigured, match="lacks key dev"):
        pii.decrypt(token)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "names no key"),
        ("nocolon", "<id>:<base64 key>"),
        ("a:" + base64.urlsafe_b64encode(b"short").decode(), "shorter than 32 bytes"),
        (f"{OLD},{OLD}", "same id"),
    ],
)
def test_a_badly_written_key_setting_is_explained(text: str, message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        pii.parse_keys(text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (JMBG, True),
        ("0101990710009", True),  # a wrong check digit: still someone's number, mistyped
        ("010199071000", False),
        ("160000000001234", False),
        ("01019907100O8", False),
        ("０１０１９９０７１０００８", False),
    ],
)
def test_thirteen_digit_numbers_are_treated_as_identifiers(value: str, expected: bool) -> None:
    assert pii.looks_like_jmbg(value) is expected


@pytest.mark.django_db
def test_a_persons_number_is_stored_encrypted_and_found_by_its_hash() -> None:
    person = Person.objects.create(jmbg=JMBG, given_name="Петар", family_name="Петровић")
    raw = _raw("identity_person", "jmbg", person.pk)
    assert JMBG not in raw and raw.startswith("pii1:")
    assert Person.objects.get(pk=person.pk).jmbg == JMBG
    assert Person.objects.by_jmbg(JMBG).get() == person
    again, created = Person.objects.get_or_create_jmbg(JMBG)
    assert (again, created) == (person, False)


@pytest.mark.django_db
def test_personal_numbers_in_form_data_are_stored_encrypted(
    citizen: User,
    newborn_aid: ServiceVersion,  # noqa: F811
) -> None:
    case, _new = submit(Actor(user=citizen), newborn_aid, NEWBORN_FORM)
    raw = _raw("cases_case", "data", case.pk)
    stored = json.loads(raw) if isinstance(raw, str) else raw
    assert NEWBORN_FORM["parent_jmbg"] not in json.dumps(stored)
    assert NEWBORN_FORM["child_jmbg"] not in json.dumps(stored)
    assert stored["parent_name"] == NEWBORN_FORM["parent_name"]  # not an identifier: clear
    assert Case.objects.get(pk=case.pk).data["child_jmbg"] == NEWBORN_FORM["child_jmbg"]


@pytest.mark.django_db
def test_rotation_moves_everything_to_the_new_key_and_lookups_work_throughout(
    settings: Any,
    citizen: User,
    newborn_aid: ServiceVersion,  # noqa: F811
) -> None:
    person = Person.objects.create(jmbg=JMBG)
    case, _new = submit(Actor(user=citizen), newborn_aid, NEWBORN_FORM)
    settings.SALTER_PII_KEYS = f"{NEW},{OLD}"
    # During the rotation a number stored under the old key is still found.
    assert Person.objects.by_jmbg(JMBG).get() == person
    counts = {r.label: r.stale for r in rotate_all(dry_run=True)}
    assert counts["identity.Person"] >= 1 and counts["cases.Case"] == 1
    assert _raw("identity_person", "jmbg", person.pk).startswith("pii1:dev:")  # dry run
    rotate_all(batch=2)
    assert _raw("identity_person", "jmbg", person.pk).startswith("pii1:k2:")
    assert _raw("identity_person", "jmbg_hash", person.pk).startswith("k2:")
    assert all(r.stale == 0 for r in rotate_all(dry_run=True))
    # With the old key gone, everything still reads and is still found.
    settings.SALTER_PII_KEYS = NEW
    assert Person.objects.by_jmbg(JMBG).get().jmbg == JMBG
    assert Case.objects.get(pk=case.pk).data["parent_jmbg"] == NEWBORN_FORM["parent_jmbg"]
    call_command("rotate_pii_keys", "--check")  # nothing left: exits cleanly


@pytest.mark.django_db
def test_numbers_stored_in_clear_before_are_encrypted_by_the_rotation() -> None:
    person = Person.objects.create(given_name="Стари", family_name="Запис")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE identity_person SET jmbg = %s WHERE id = %s", [JMBG, person.pk])
    assert Person.objects.get(pk=person.pk).jmbg == JMBG  # read as it is
    with pytest.raises(Exception, match="not yet under key"):
        call_command("rotate_pii_keys", "--check")
    call_command("rotate_pii_keys")
    assert _raw("identity_person", "jmbg", person.pk).startswith("pii1:dev:")
    assert Person.objects.by_jmbg(JMBG).get() == person


def test_a_new_key_is_printed_in_the_settings_form(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("rotate_pii_keys", "--new-key", "k3")
    printed = capsys.readouterr().out.strip()
    assert pii.parse_keys(printed)[0].id == "k3"
