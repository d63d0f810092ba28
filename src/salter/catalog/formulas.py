"""Calculations in a service definition: a tiny, safe arithmetic over field names and numbers,
e.g. ``actual_hours * hourly_base_pay * 1.26``.

Parsed with :mod:`ast` and walked by hand; only numbers, field names, ``+ - * /``, unary minus
and parentheses are accepted. Nothing is ever compiled or evaluated by Python, so a formula
cannot call, import, index or reach an attribute. Arithmetic is in :class:`~decimal.Decimal`,
because the results are money.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Mapping
from decimal import Decimal, DivisionByZero, InvalidOperation

from django.utils.translation import gettext as _

MAX_LENGTH = 500
MAX_DEPTH = 50
NAME = re.compile(r"^[a-z][a-z0-9_]*$")

_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}


class FormulaError(ValueError):
    """The formula is not safe arithmetic, or cannot be computed with the values given."""


def _parse(formula: str) -> ast.expr:
    if not isinstance(formula, str) or not formula.strip():
        raise FormulaError(_("the formula is empty"))
    if len(formula) > MAX_LENGTH:
        raise FormulaError(_("the formula is longer than %(max)d characters") % {"max": MAX_LENGTH})
    try:
        tree = ast.parse(formula.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise FormulaError(_("the formula is not valid arithmetic")) from exc
    _check(tree.body, 0)
    return tree.body


def _check(node: ast.AST, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise FormulaError(_("the formula is nested too deeply"))
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _OPERATORS:
            raise FormulaError(_("only + - * / are allowed"))
        _check(node.left, depth + 1)
        _check(node.right, depth + 1)
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, ast.USub | ast.UAdd):
            raise FormulaError(_("only + - * / are allowed"))
        _check(node.operand, depth + 1)
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise FormulaError(_("only numbers and field names are allowed"))
        if isinstance(node.value, float) and not math.isfinite(node.value):
            raise FormulaError(_("the number is too large"))
    elif isinstance(node, ast.Name):
        if not NAME.match(node.id):
            raise FormulaError(
                _("“%(name)s” is not a field name (lower case, digits, _)") % {"name": node.id}
            )
    else:
        raise FormulaError(
            _("only numbers, field names, + - * / and parentheses are allowed (found %(what)s)")
            % {"what": type(node).__name__}
        )


def names(formula: str) -> set[str]:
    """The field names a formula reads. Raises :class:`FormulaError` if it is not safe."""
    return {n.id for n in ast.walk(_parse(formula)) if isinstance(n, ast.Name)}


def validate(formula: str) -> None:
    _parse(formula)


def _number(value: object, name: str) -> Decimal:
    if isinstance(value, bool) or value is None or value == "":
        raise FormulaError(_("“%(name)s” has no numeric value") % {"name": name})
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise FormulaError(_("“%(name)s” is not a number") % {"name": name}) from exc


def evaluate(formula: str, values: Mapping[str, object]) -> Decimal:
    """Compute the formula with ``values`` (numbers, or strings such as ``"1234.50"``)."""
    return _eval(_parse(formula), values)


def _eval(node: ast.expr, values: Mapping[str, object]) -> Decimal:
    if isinstance(node, ast.Constant):
        return Decimal(str(node.value))
    if isinstance(node, ast.Name):
        if node.id not in values:
            raise FormulaError(_("“%(name)s” has no value") % {"name": node.id})
        return _number(values[node.id], node.id)
    if isinstance(node, ast.UnaryOp):
        operand = _eval(node.operand, values)
        return -operand if isinstance(node.op, ast.USub) else operand
    assert isinstance(node, ast.BinOp)  # _check let nothing else through
    left, right = _eval(node.left, values), _eval(node.right, values)
    try:
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            return left * right
        return left / right
    except (DivisionByZero, InvalidOperation) as exc:
        raise FormulaError(_("division by zero")) from exc
