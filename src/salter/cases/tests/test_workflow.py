"""Pure reading of a definition: form validation never crashes, money is exact, deadlines."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from salter.cases import workflow
from salter.catalog import pilots

OVERTIME = pilots.OVERTIME.definition()
NEWBORN = pilots.NEWBORN_AID.definition()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)


@given(st.dictionaries(st.sampled_from(["date", "planned_hours", "reason", "other"]), json_values))
def test_any_form_data_gets_messages_never_an_exception(data: dict[str, Any]) -> None:
    errors = workflow.field_errors(OVERTIME["form"]["schema"], data)
    assert all(isinstance(m, str) and m for m in errors.values())
    assert set(errors) <= {"date", "planned_hours", "reason", "other"}


@given(
    st.decimals(min_value=Decimal("0.25"), max_value=4, places=2),
    st.decimals(min_value=Decimal("0.01"), max_value=100000, places=2),
)
def test_overtime_pay_is_exact(hours: Decimal, base: Decimal) -> None:
    result = workflow.calculate(
        OVERTIME, {"actual_hours": float(hours), "hourly_base_pay": str(base)}
    )
    assert Decimal(result["overtime_pay"]) == hours * base * Decimal("1.26")


def test_calculations_wait_for_their_fields() -> None:
    assert workflow.calculate(OVERTIME, {"actual_hours": 2}) == {}


def test_task_roles_leave_out_the_withdrawal() -> None:
    assert workflow.task_roles(NEWBORN, "submitted") == ["clerk"]
    assert workflow.task_roles(NEWBORN, "supplement_requested") == ["applicant"]
    assert workflow.task_roles(NEWBORN, "approved") == ["clerk", "registry_clerk"]


def test_deadlines_in_calendar_and_working_days() -> None:
    # Friday 1 May 2026 is Labour Day; 15 working days after Thursday 30 April skip it, 2 May
    # (Saturday, its second day) and the weekends.
    assert workflow.deadline(OVERTIME, date(2026, 4, 30)) == date(2026, 5, 22)
    # 30 calendar days after 1 December 2026 is 31 December, a Thursday.
    assert workflow.deadline(NEWBORN, date(2026, 12, 1)) == date(2026, 12, 31)
    assert workflow.deadline({}, date(2026, 12, 1)) is None


def test_messages_speak_of_the_field_not_of_json_schema() -> None:
    errors = workflow.field_errors(
        NEWBORN["form"]["schema"],
        {"parent_name": 7, "parent_email": "nobody", "bring_evidence": "yes", "child_name": "Ли"},
    )
    assert errors["parent_name"] == "Enter text."
    assert errors["parent_email"] == "Enter a valid e-mail address."
    assert errors["bring_evidence"] == "Choose yes or no."
    assert errors["child_name"] == "Enter at least 3 characters."
    assert errors["child_jmbg"] == "This field is required."
    assert workflow.field_errors(NEWBORN["form"]["schema"], []) == {
        "__all__": "Expected an object of fields."
    }
