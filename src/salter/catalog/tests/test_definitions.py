"""Validation of service definitions: the meta-schema, then one test per semantic error."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import translation
from jsonschema import Draft202012Validator

from salter.catalog import definitions, pilots
from salter.catalog.definitions import DefinitionError

Definition = dict[str, Any]


def overtime() -> Definition:
    return pilots.OVERTIME.definition()


def newborn() -> Definition:
    return pilots.NEWBORN_AID.definition()


def transition(d: Definition, transition_id: str) -> dict[str, Any]:
    return next(t for t in d["workflow"]["transitions"] if t["id"] == transition_id)


def index(d: Definition, transition_id: str) -> int:
    ids = [t["id"] for t in d["workflow"]["transitions"]]
    return ids.index(transition_id)


def errors_of(d: object) -> list[DefinitionError]:
    return definitions.validate(d)


def test_the_meta_schema_is_a_valid_2020_12_schema() -> None:
    Draft202012Validator.check_schema(definitions.meta_schema())


@pytest.mark.parametrize("pilot", pilots.ALL, ids=lambda p: p.code)
def test_every_pilot_is_valid(pilot: pilots.Pilot) -> None:
    assert errors_of(pilot.definition()) == []


def test_not_an_object() -> None:
    assert errors_of([1, 2]) == [DefinitionError("", "The definition must be a JSON object.")]


def test_meta_schema_errors_point_at_the_place() -> None:
    d = overtime()
    del transition(d, "approve")["roles"]
    d["deadline"]["days"] = 0
    found = {e.path for e in errors_of(d)}
    assert found == {"/deadline/days", f"/workflow/transitions/{index(d, 'approve')}"}


def test_form_schema_must_itself_be_a_valid_schema() -> None:
    d = overtime()
    d["form"]["schema"]["properties"]["date"] = {"type": "calendar"}
    [error] = errors_of(d)
    assert error.path.startswith("/form/schema")
    assert "not a valid JSON Schema 2020-12" in error.message


def test_transition_input_must_be_a_valid_schema() -> None:
    d = overtime()
    transition(d, "report")["input"]["properties"]["actual_hours"]["minimum"] = "none"
    [error] = errors_of(d)
    assert error.path.startswith(f"/workflow/transitions/{index(d, 'report')}/input")


def _only(d: Definition) -> DefinitionError:
    errors = errors_of(d)
    assert len(errors) == 1, errors
    return errors[0]


Case = tuple[Callable[[Definition], None], str, str]


def _unknown_to(d: Definition) -> None:
    transition(d, "approve")["to"] = "aproved"


def _unknown_initial(d: Definition) -> None:
    d["workflow"]["initial"] = "new"


def _unreachable(d: Definition) -> None:
    d["workflow"]["states"]["archived"] = {"label": {"sr": "Архивиран", "en": "Archived"},
                                           "final": True}  # fmt: skip


def _dead_end(d: Definition) -> None:
    d["workflow"]["states"]["withdrawn"]["final"] = False


def _no_roles(d: Definition) -> None:
    transition(d, "approve")["roles"] = []


def _unknown_role(d: Definition) -> None:
    transition(d, "approve")["roles"] = ["boss"]


def _unknown_required_field(d: Definition) -> None:
    transition(d, "confirm")["requires_fields"] = ["hours"]


def _field_not_yet_entered(d: Definition) -> None:
    transition(d, "approve")["requires_fields"] = ["actual_hours"]


def _unknown_guard_field(d: Definition) -> None:
    transition(d, "issue_pay_slip")["guard"]["field"] = "hours"


def _unknown_show_if(d: Definition) -> None:
    d["form"]["ui"]["fields"]["reason"]["show_if"] = {"field": "urgent", "equals": True}


def _unknown_formula_field(d: Definition) -> None:
    d["calculations"][0]["formula"] = "actual_hours * base_pay * 1.26"


def _unsafe_formula(d: Definition) -> None:
    d["calculations"][0]["formula"] = "__import__('os').getcwd()"


def _step_unknown_field(d: Definition) -> None:
    d["form"]["ui"]["steps"][0]["fields"].append("urgent")


def _field_in_no_step(d: Definition) -> None:
    d["form"]["ui"]["steps"][0]["fields"].remove("reason")


def _duplicate_transition(d: Definition) -> None:
    transition(d, "withdraw")["id"] = "approve"


def _leaves_final(d: Definition) -> None:
    transition(d, "withdraw")["from"] = "rejected"
    d["workflow"]["states"]["submitted"]["final"] = False


def _unknown_notification(d: Definition) -> None:
    d["notifications"][0]["on"] = "transition:aprove"


def _unknown_approval_role(d: Definition) -> None:
    transition(d, "approve")["approval"] = {
        "mode": "parallel",
        "steps": [{"role": "applicant", "label": {"sr": "Подносилац", "en": "Applicant"}}],
    }


def _approver_not_among_roles(d: Definition) -> None:
    transition(d, "approve")["approval"] = {
        "mode": "sequential",
        "steps": [{"role": "approver", "label": {"sr": "Секретар", "en": "Secretary"}}],
    }


def _label_of_no_input(d: Definition) -> None:
    transition(d, "report")["ui"] = {"fields": {"hours": {"label": {"sr": "Сати", "en": "Hours"}}}}


def _duplicate_document(d: Definition) -> None:
    d["documents"].append(copy.deepcopy(d["documents"][0]))


def _calculation_overwrites_input(d: Definition) -> None:
    d["calculations"].append({"target": "actual_hours", "formula": "1"})


CASES: dict[str, Case] = {
    "unknown state in from/to": (
        _unknown_to, "/workflow/transitions/0/to", "the state “aproved”, which does not exist"),
    "unknown initial state": (
        _unknown_initial, "/workflow/initial", "initial state “new” is not among the states"),
    "unreachable state": (
        _unreachable, "/workflow/states/archived", "leads from “submitted” to “archived”"),
    "non-final state with no way out": (
        _dead_end, "/workflow/states/withdrawn", "not final but no transition leaves it"),
    "transition without roles": (
        _no_roles, "/workflow/transitions/0/roles", "names no role, so nobody could take it"),
    "unknown role": (_unknown_role, "/workflow/transitions/0/roles/0", "“boss” is not a role"),
    "unknown required field": (
        _unknown_required_field, "/workflow/transitions/5/requires_fields/0",
        "“hours” is neither a field of the form nor entered by any transition"),
    "field entered only later": (
        _field_not_yet_entered, "/workflow/transitions/0/requires_fields/0",
        "“actual_hours” is entered only by “report”, which does not come before every way "
        "into “submitted”"),
    "unknown guard field": (
        _unknown_guard_field, "/workflow/transitions/6/guard/field", "“hours” is neither"),
    "unknown show_if field": (
        _unknown_show_if, "/form/ui/fields/reason/show_if/field",
        "reads “urgent”, which is not a field of the form"),
    "unknown field in a calculation": (
        _unknown_formula_field, "/calculations/0/formula", "“base_pay” is neither"),
    "unsafe calculation": (_unsafe_formula, "/calculations/0/formula", "not safe arithmetic"),
    "step lists an unknown field": (
        _step_unknown_field, "/form/ui/steps/0/fields/3", "lists “urgent”, which is not a field"),
    "form field in no step": (
        _field_in_no_step, "/form/schema/properties/reason", "“reason” is in no step"),
    "duplicate transition id": (
        _duplicate_transition, "/workflow/transitions/2/id", "already has the id “approve”"),
    "transition leaves a final state": (
        _leaves_final, "/workflow/transitions/2/from", "leaves “rejected”, which is a final"),
    "notification on an unknown transition": (
        _unknown_notification, "/notifications/0/on", "There is no transition “aprove”"),
    "approval step by a non-official": (
        _unknown_approval_role, "/workflow/transitions/0/approval/steps/0/role",
        "“applicant” is not a role of officials"),
    "approver's role not a role of the transition": (
        _approver_not_among_roles, "/workflow/transitions/0/approval/steps/0/role",
        "must also be one of the roles of transition “approve”"),
    "label of an input the transition lacks": (
        _label_of_no_input, "/workflow/transitions/3/ui/fields/hours",
        "has no input field “hours”"),
    "duplicate document code": (
        _duplicate_document, "/documents/1/code", "already has the code “pay_slip”"),
    "calculation overwrites an entered field": (
        _calculation_overwrites_input, "/calculations/1/target", "cannot overwrite it"),
}  # fmt: skip


@pytest.mark.parametrize("name", list(CASES))
def test_each_error_points_at_its_place(name: str) -> None:
    change, path, message = CASES[name]
    d = overtime()
    change(d)
    error = _only(d)
    assert error.path == path
    assert message in error.message


def test_fields_of_a_supplement_loop_are_not_surely_there() -> None:
    """The answer to a supplement request exists only on the way through the supplement."""
    d = newborn()
    transition(d, "draft_decision")["requires_fields"].append("supplement_answer")
    error = _only(d)
    assert error.path == f"/workflow/transitions/{index(d, 'draft_decision')}/requires_fields/3"
    assert "entered only by “answer_supplement”" in error.message


def test_a_timer_transition_needs_no_role() -> None:
    d = newborn()
    transition(d, "close")["roles"] = []
    assert errors_of(d) == []


def test_unknown_state_in_a_list_of_sources() -> None:
    d = newborn()
    transition(d, "withdraw")["from"].append("lost")
    error = _only(d)
    assert error.path == f"/workflow/transitions/{index(d, 'withdraw')}/from/3"


def test_all_errors_are_reported_at_once() -> None:
    d = overtime()
    for change, _path, _message in (CASES["unknown role"], CASES["form field in no step"]):
        change(d)
    assert len(errors_of(d)) == 2


def test_the_definition_is_not_changed_by_validation() -> None:
    d = newborn()
    before = json.dumps(d, sort_keys=True)
    errors_of(d)
    assert json.dumps(d, sort_keys=True) == before


def test_messages_are_in_serbian_for_serbian_users() -> None:
    d = overtime()
    _unknown_role(d)
    with translation.override("sr"):
        error = _only(d)
    assert error.message.startswith("„boss” није улога.")
