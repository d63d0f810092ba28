"""Calculations: safe arithmetic only, computed in Decimal."""

from __future__ import annotations

import builtins
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salter.catalog import formulas


def test_overtime_pay() -> None:
    pay = formulas.evaluate(
        "actual_hours * hourly_base_pay * 1.26", {"actual_hours": 3, "hourly_base_pay": "850.00"}
    )
    assert pay == Decimal("3213.00")


def test_names_and_parentheses() -> None:
    assert formulas.names("(a + b) / -c - 2") == {"a", "b", "c"}
    assert formulas.evaluate("(a + b) / -c - 2", {"a": 1, "b": 3, "c": 2}) == Decimal(-4)


@pytest.mark.parametrize(
    "formula",
    [
        "__import__('os').system('true')",
        "open('/etc/passwd')",
        "a.b",
        "a[0]",
        "2 ** 1000000",
        "7 % 2",
        "7 // 2",
        "lambda: 1",
        "a if b else c",
        "a < b",
        "a and b",
        "True + 1",
        "'text'",
        "1j",
        "1e999",
        "[1, 2]",
        "(a := 1)",
        "f'{a}'",
        "A + 1",
        "",
        "   ",
        "1 +",
        "(" * 400 + "1" + ")" * 400,
        "1" + " + 1" * 200,
    ],
)
def test_anything_but_arithmetic_is_refused(formula: str) -> None:
    with pytest.raises(formulas.FormulaError):
        formulas.validate(formula)


def test_missing_or_non_numeric_values_and_division_by_zero() -> None:
    with pytest.raises(formulas.FormulaError, match="no value"):
        formulas.evaluate("a + 1", {})
    with pytest.raises(formulas.FormulaError, match="not a number"):
        formulas.evaluate("a + 1", {"a": "many"})
    with pytest.raises(formulas.FormulaError, match="no numeric value"):
        formulas.evaluate("a + 1", {"a": None})
    with pytest.raises(formulas.FormulaError, match="division by zero"):
        formulas.evaluate("1 / (a - a)", {"a": 2})


@given(st.text(max_size=80))
def test_any_text_is_refused_or_computed_never_run(text: str) -> None:
    """Whatever an administrator types, the evaluator either refuses it or returns a number,
    and it never hands anything to Python's evaluator (``ast.parse`` only builds a tree)."""

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the formula reached eval/exec")

    saved = builtins.eval, builtins.exec
    builtins.eval, builtins.exec = forbidden, forbidden
    try:
        result = formulas.evaluate(text, {"a": 2, "b": "3.5"})
    except formulas.FormulaError:
        return
    finally:
        builtins.eval, builtins.exec = saved
    assert isinstance(result, Decimal)


def _expressions() -> st.SearchStrategy[tuple[str, Fraction]]:
    leaves = st.one_of(
        st.integers(0, 99).map(lambda n: (str(n), Fraction(n))),
        st.sampled_from([("a", Fraction(3)), ("b", Fraction(7, 2))]),
    )

    def extend(
        children: st.SearchStrategy[tuple[str, Fraction]],
    ) -> st.SearchStrategy[tuple[str, Fraction]]:
        def combine(left: tuple[str, Fraction], op: str, right: tuple[str, Fraction]) -> Any:
            value = {
                "+": lambda: left[1] + right[1],
                "-": lambda: left[1] - right[1],
                "*": lambda: left[1] * right[1],
            }[op]()
            return (f"({left[0]} {op} {right[0]})", value)

        return st.builds(combine, children, st.sampled_from("+-*"), children)

    return st.recursive(leaves, extend, max_leaves=8)


@given(_expressions())
def test_arithmetic_matches_exact_rationals(expression: tuple[str, Fraction]) -> None:
    text, expected = expression
    assert Fraction(formulas.evaluate(text, {"a": 3, "b": "3.5"})) == expected
