"""Whose data a case holds: its applicant and every person its form names by personal number.

Recorded when the case is submitted (:func:`on_submitted`, in the submission's transaction), so
a read of the case is logged against each of them without working it out again."""

from __future__ import annotations

from typing import TYPE_CHECKING

from salter.core import pii
from salter.exchange.models import CaseSubject
from salter.identity.models import Person, User

if TYPE_CHECKING:
    from salter.cases.models import Case


def person_of(user: User) -> int:
    """The id of the user's person, made (without a personal number) for a user who registered
    without one, so reads of their data can be attributed and shown to them. The user object
    in hand is left as it is: the transaction that makes the person may yet roll back."""
    if user.person_id is not None:
        return user.person_id
    users = User.objects.filter(pk=user.pk)
    found = users.exclude(person=None).values_list("person_id", flat=True).first()
    if found is not None:
        return found
    given, _sep, family = user.full_name.partition(" ")
    person = Person.objects.create(given_name=given[:100], family_name=family[:100])
    users.update(person=person)
    return person.pk


def on_submitted(case: Case) -> list[int]:
    subjects: dict[int, str] = {person_of(case.applicant): CaseSubject.Role.APPLICANT}
    for jmbg in dict.fromkeys(pii.identifiers_in(case.data)):
        person, _created = Person.objects.get_or_create_jmbg(jmbg)
        subjects.setdefault(person.pk, CaseSubject.Role.NAMED)
    CaseSubject.objects.bulk_create(
        [CaseSubject(case=case, person_id=pk, role=role) for pk, role in subjects.items()]
    )
    return list(subjects)
