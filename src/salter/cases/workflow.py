"""Reading a pinned service definition: transitions, states, deadlines, form validation.

Pure functions over the definition document (format v1, see ``docs/service-definitions.md``);
nothing here touches the database.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaError

from salter.catalog import formulas
from salter.core import calendar

APPLICANT = "applicant"
WITHDRAW = "withdraw"  # the conventional id of the applicant's withdrawal transition
BUILTIN_WITHDRAWN = "withdrawn"  # the closed state of a built-in withdrawal


def text(value: object) -> str:
    """A ``{"sr", "en"}`` text of a definition in the active language (Serbian by default)."""
    if isinstance(value, Mapping):
        if translation.get_language() == "en" and value.get("en"):
            return str(value["en"])
        return str(value.get("sr") or value.get("en") or "")
    return str(value or "")


def sources(transition: Mapping[str, Any]) -> list[str]:
    source = transition["from"]
    return [source] if isinstance(source, str) else list(source)


def transition(definition: Mapping[str, Any], transition_id: str) -> dict[str, Any] | None:
    for t in definition["workflow"]["transitions"]:
        if t["id"] == transition_id:
            found: dict[str, Any] = t
            return found
    return None


def leaving(definition: Mapping[str, Any], state: str) -> list[dict[str, Any]]:
    return [t for t in definition["workflow"]["transitions"] if state in sources(t)]


def state_info(definition: Mapping[str, Any], state: str) -> dict[str, Any]:
    info: dict[str, Any] = definition["workflow"]["states"].get(state, {})
    return info


def state_label(definition: Mapping[str, Any], state: str) -> str:
    if state == BUILTIN_WITHDRAWN and state not in definition["workflow"]["states"]:
        return _("Withdrawn by the applicant")
    return text(state_info(definition, state).get("label")) or state


def is_final(definition: Mapping[str, Any], state: str) -> bool:
    if state == BUILTIN_WITHDRAWN and state not in definition["workflow"]["states"]:
        return True
    return bool(state_info(definition, state).get("final"))


def waits_for_applicant(definition: Mapping[str, Any], state: str) -> bool:
    return bool(state_info(definition, state).get("waits_for_applicant"))


def task_roles(
    definition: Mapping[str, Any],
    state: str,
    approved: Mapping[str, set[int]] | None = None,
) -> list[str]:
    """Who is expected to act in ``state``: the roles of the transitions leaving it, in
    definition order. The applicant's withdrawal is left out — it is open in many states, and
    a case is not waiting for the applicant just because they could withdraw it. A transition
    with an approval line counts with the roles of the steps it still waits for
    (``approved``: transition id → the steps recorded so far)."""
    roles: list[str] = []
    for t in leaving(definition, state):
        if t["id"] == WITHDRAW:
            continue
        if "approval" in t:
            pending = pending_steps(t, (approved or {}).get(t["id"], set()))
            wanted = [t["approval"]["steps"][i]["role"] for i in pending]
        else:
            wanted = t["roles"]
        roles += [r for r in wanted if r not in roles]
    return roles


def pending_steps(transition: Mapping[str, Any], done: set[int]) -> list[int]:
    """The approval steps that may be recorded now: in a sequential line only the first one
    not yet recorded, in a parallel line every one not yet recorded."""
    line = transition["approval"]
    left = [i for i in range(len(line["steps"])) if i not in done]
    if line["mode"] == "sequential":
        return left[:1]
    return left


def acting_roles(transition: Mapping[str, Any]) -> list[str]:
    """The roles that may take part in a transition: its approvers' roles when it has an
    approval line, its ``roles`` otherwise."""
    if "approval" in transition:
        steps = transition["approval"]["steps"]
        return list(dict.fromkeys(str(step["role"]) for step in steps))
    return list(transition["roles"])


def timer_due(transition: Mapping[str, Any], entered: date) -> date | None:
    """The day on which the platform takes a timed transition, for a case that entered the
    transition's from-state on ``entered``; ``None`` for a transition without a timer."""
    timer = transition.get("timer")
    if not timer:
        return None
    if timer.get("working_days"):
        return calendar.add_working_days(entered, int(timer["after_days"]))
    return entered + timedelta(days=int(timer["after_days"]))


def deadline(definition: Mapping[str, Any], start: date) -> date | None:
    """The last day of the legal time limit counted from ``start`` (the day of submission,
    moved on by the days the case waited for the applicant); ``None`` without a deadline."""
    limit = definition.get("deadline")
    if not limit:
        return None
    days = int(limit["days"])
    if limit.get("working_days"):
        return calendar.add_working_days(start, days)
    return calendar.add_calendar_days(start, days)


def deadline_start(submitted: date, paused_days: int) -> date:
    return submitted + timedelta(days=paused_days)


# --- validation of form data and transition input ------------------------------------------


@lru_cache(maxsize=256)
def _validator(schema_json: str) -> Draft202012Validator:
    return Draft202012Validator(
        json.loads(schema_json), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def field_errors(schema: Mapping[str, Any], values: object) -> dict[str, str]:
    """One message per field (the first problem found), ``"__all__"`` for the whole object.
    Names that the schema does not declare are refused: a case stores only what its
    definition describes."""
    if not isinstance(values, Mapping):
        return {"__all__": _("Expected an object of fields.")}
    errors: dict[str, str] = {}
    validator = _validator(json.dumps(schema, sort_keys=True))
    for error in sorted(validator.iter_errors(values), key=lambda e: list(e.path)):
        for name, message in _messages(error, values):
            errors.setdefault(name, message)
    known = set(schema.get("properties", {}))
    for name in sorted(set(values) - known):
        errors.setdefault(str(name), _("There is no such field."))
    return errors


def _messages(error: SchemaError, values: Mapping[str, Any]) -> list[tuple[str, str]]:
    kind = error.validator
    if kind == "required" and not error.path:
        return [
            (str(name), _("This field is required."))
            for name in error.validator_value
            if name not in values
        ]
    name = str(error.path[0]) if error.path else "__all__"
    limit = error.validator_value
    message: str
    if kind == "type":
        kinds = {
            "number": _("Enter a number."),
            "integer": _("Enter a whole number."),
            "string": _("Enter text."),
            "boolean": _("Choose yes or no."),
        }
        message = kinds.get(str(limit), _("The value is not of the expected kind."))
    elif kind == "minLength":
        message = _("Enter at least %(n)s characters.") % {"n": limit}
    elif kind == "maxLength":
        message = _("Enter at most %(n)s characters.") % {"n": limit}
    elif kind in ("minimum", "exclusiveMinimum"):
        word = _("at least") if kind == "minimum" else _("more than")
        message = _("The value must be %(bound)s %(n)s.") % {"bound": word, "n": limit}
    elif kind in ("maximum", "exclusiveMaximum"):
        word = _("at most") if kind == "maximum" else _("less than")
        message = _("The value must be %(bound)s %(n)s.") % {"bound": word, "n": limit}
    elif kind == "pattern":
        message = _("The value is not in the expected form.")
    elif kind == "format":
        formats = {
            "date": _("Enter a date as YYYY-MM-DD."),
            "email": _("Enter a valid e-mail address."),
        }
        message = formats.get(str(limit), _("The value is not in the expected form."))
    elif kind in ("enum", "const"):
        message = _("Choose one of the offered values.")
    else:
        message = error.message
    return [(name, message)]


# --- calculations and guards ---------------------------------------------------------------


def calculate(definition: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, str]:
    """The calculations whose fields all have a value, in order (a later one may read an
    earlier result), as decimal strings: money is never a float."""
    known = dict(values)
    results: dict[str, str] = {}
    for calculation in definition.get("calculations", []):
        if not formulas.names(calculation["formula"]) <= set(known):
            continue
        result = formulas.evaluate(calculation["formula"], known)
        known[calculation["target"]] = results[calculation["target"]] = decimal_text(result)
    return results


def decimal_text(value: Decimal) -> str:
    """A decimal as plain text without trailing zeros or an exponent: 3582.6840 → "3582.684",
    1E+2 → "100"."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def input_labels(definition: Mapping[str, Any]) -> dict[str, str]:
    """A label in the active language for each field entered by a transition (its ``ui``
    hint, else the schema's ``title``), and for each calculated field (its name, readable)."""
    labels: dict[str, str] = {}
    for t in definition["workflow"]["transitions"]:
        hints = t.get("ui", {}).get("fields", {})
        for name, schema in t.get("input", {}).get("properties", {}).items():
            label = text(hints.get(name, {}).get("label")) or str(schema.get("title", ""))
            labels.setdefault(name, label or name.replace("_", " ").capitalize())
    for calculation in definition.get("calculations", []):
        target = calculation["target"]
        label = text(calculation.get("label")) or target.replace("_", " ").capitalize()
        labels.setdefault(target, label)
    return labels


def entered(definition: Mapping[str, Any], inputs: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The input entered along the way and the calculated results, labelled, in definition
    order."""
    labels = input_labels(definition)
    order = {name: i for i, name in enumerate(labels)}
    rows = sorted(inputs.items(), key=lambda item: (order.get(item[0], len(order)), item[0]))
    return [(labels.get(name, name), _shown(value)) for name, value in rows]


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if value is None:
        return "—"
    return str(value)


def has_value(value: object) -> bool:
    return value is not None and value != "" and value != [] and value != {}


def guard_holds(guard: Mapping[str, Any], values: Mapping[str, Any]) -> bool:
    left, right = values.get(guard["field"]), guard["value"]
    op = guard["op"]
    a, b = _decimal(left), _decimal(right)
    if a is not None and b is not None:
        left, right = a, b
    if op == "==":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if a is None or b is None:
        return False  # order comparisons need numbers
    return {">": a > b, ">=": a >= b, "<": a < b, "<=": a <= b}.get(op, False)


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None
