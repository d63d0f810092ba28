"""The service generator's structured editor: what each edit does to a definition.

Every function here takes a definition (a plain dict, which it changes in place) and the cleaned
data of one small form — a form field, a step, a state, a transition, the deadline, a fee — and
knows nothing of requests or the database; the views save the result with
:func:`salter.catalog.services.update_draft`. A draft may be in any shape (it may have been
imported or edited as raw JSON), so reading never assumes it is valid and writing creates what
is missing.

:func:`apply_edit` is one edit as the editor page sends it (a section, an action, the item's
key), with :func:`item_key` to find the item and :func:`refusal` for what is not allowed;
``*_initial`` read an item back into its form.

:func:`locate` maps a validation error's JSON Pointer to the place in the editor that shows it,
e.g. ``/workflow/transitions/2/roles`` → the role boxes of the third transition.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}\Z")  # the meta-schema's names

# The structured editor's kinds of form field, and the JSON Schema each one writes.
FIELD_TYPES = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "email": {"type": "string", "format": "email"},
    "choice": {"type": "string"},  # with an enum of the options
}
OTHER = "other"  # a schema the structured editor does not describe: left as it is
INPUT_TYPES = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
}
# Keys of a field's schema the structured editor owns; any other key is kept as it is.
_MANAGED = ("type", "format", "enum", "minimum", "maximum", "minLength", "maxLength")


def starter_definition() -> dict[str, Any]:
    """A new service's first draft: one question, a case that is submitted and decided. Valid
    as it is, so the preview and the diagram work from the start."""
    return {
        "form": {
            "schema": {
                "type": "object",
                "required": ["request"],
                "properties": {"request": {"type": "string", "minLength": 1, "maxLength": 2000}},
            },
            "ui": {
                "steps": [
                    {
                        "id": "application",
                        "title": {"sr": "Захтев", "en": "Application"},
                        "fields": ["request"],
                    }
                ],
                "fields": {
                    "request": {
                        "label": {"sr": "Шта тражите", "en": "What you ask for"},
                        "widget": "textarea",
                    }
                },
            },
        },
        "workflow": {
            "initial": "submitted",
            "states": {
                "submitted": {"label": {"sr": "Поднет захтев", "en": "Application submitted"}},
                "decided": {"label": {"sr": "Решено", "en": "Decided"}, "final": True},
            },
            "transitions": [
                {
                    "id": "decide",
                    "from": "submitted",
                    "to": "decided",
                    "label": {"sr": "Одлучи", "en": "Decide"},
                    "roles": ["clerk"],
                    "opinion": True,
                }
            ],
        },
        "deadline": {"days": 30, "working_days": False},
    }


# --- reading a definition of any shape ----------------------------------------------------------


def obj(value: Any, *keys: str) -> dict[str, Any]:
    """``value[k1][k2]…`` if that is an object, else an empty dict (never fails)."""
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, dict) else {}


def items(value: Any, *keys: str) -> list[Any]:
    """``value[k1][k2]…`` if that is a list, else an empty list."""
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, list) else []


def ensure(definition: dict[str, Any], *keys: str) -> dict[str, Any]:
    """The object at ``keys``, created (or replacing what is not an object) on the way."""
    here = definition
    for key in keys:
        if not isinstance(here.get(key), dict):
            here[key] = {}
        here = here[key]
    return here


def ensure_list(parent: dict[str, Any], key: str) -> list[Any]:
    if not isinstance(parent.get(key), list):
        parent[key] = []
    result: list[Any] = parent[key]
    return result


def text_of(value: Any, language: str) -> str:
    return str(value.get(language, "")) if isinstance(value, dict) else ""


def texts(sr: str, en: str) -> dict[str, str]:
    return {"sr": sr.strip(), "en": en.strip()}


def sources(transition: Any) -> list[str]:
    source = obj({"t": transition}, "t").get("from")
    if isinstance(source, str):
        return [source]
    return [s for s in source if isinstance(s, str)] if isinstance(source, list) else []


def form_fields(definition: Any) -> list[str]:
    return list(obj(definition, "form", "schema", "properties"))


def steps(definition: Any) -> list[dict[str, Any]]:
    return [s if isinstance(s, dict) else {} for s in items(definition, "form", "ui", "steps")]


def step_of(definition: Any, name: str) -> int | None:
    for i, step in enumerate(steps(definition)):
        if name in items(step, "fields"):
            return i
    return None


def states(definition: Any) -> dict[str, Any]:
    return obj(definition, "workflow", "states")


def transitions(definition: Any) -> list[dict[str, Any]]:
    return [t if isinstance(t, dict) else {} for t in items(definition, "workflow", "transitions")]


def entered_fields(definition: Any) -> list[str]:
    """Every field a transition may require: the form's, the transitions' inputs, calculated."""
    names = form_fields(definition)
    for t in transitions(definition):
        names += [n for n in obj(t, "input", "properties") if n not in names]
    for calculation in items(definition, "calculations"):
        target = obj({"c": calculation}, "c").get("target")
        if isinstance(target, str) and target not in names:
            names.append(target)
    return names


def fees(definition: Any) -> list[dict[str, Any]]:
    return [f if isinstance(f, dict) else {} for f in items(definition, "fees")]


# --- form fields --------------------------------------------------------------------------------


def field_type(schema: Any) -> str:
    if not isinstance(schema, dict):
        return OTHER
    kind, fmt = schema.get("type"), schema.get("format")
    if kind == "string" and isinstance(schema.get("enum"), list):
        return "choice"
    if kind == "string" and fmt in {"date", "email"}:
        return str(fmt)
    if kind == "string" and fmt is None:
        return "string"
    if kind in {"integer", "number", "boolean"} and "enum" not in schema:
        return str(kind)
    return OTHER


def field_initial(definition: Any, name: str) -> dict[str, Any]:
    schema = obj(definition, "form", "schema", "properties", name)
    hint = obj(definition, "form", "ui", "fields", name)
    enum = schema.get("enum")
    return {
        "name": name,
        "type": field_type(schema),
        "required": name in items(definition, "form", "schema", "required"),
        "minimum": schema.get("minimum"),
        "maximum": schema.get("maximum"),
        "min_length": schema.get("minLength"),
        "max_length": schema.get("maxLength"),
        "options": "\n".join(str(v) for v in enum) if isinstance(enum, list) else "",
        "label_sr": text_of(hint.get("label"), "sr"),
        "label_en": text_of(hint.get("label"), "en"),
        "help_sr": text_of(hint.get("help"), "sr"),
        "help_en": text_of(hint.get("help"), "en"),
        "widget": hint.get("widget", "") if isinstance(hint.get("widget"), str) else "",
        "step": str(step_of(definition, name) if step_of(definition, name) is not None else ""),
    }


def _number(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _field_schema(old: Any, data: dict[str, Any]) -> Any:
    kind = data["type"]
    if kind == OTHER:
        return old if isinstance(old, dict | bool) else {}
    schema = {k: v for k, v in old.items() if k not in _MANAGED} if isinstance(old, dict) else {}
    schema = {**FIELD_TYPES[kind], **schema}
    if kind == "choice":
        schema["enum"] = data["options"]
    if kind in {"integer", "number"}:
        for key in ("minimum", "maximum"):
            if data.get(key) is not None:
                schema[key] = _number(data[key])
    if kind == "string":
        for key, name in (("minLength", "min_length"), ("maxLength", "max_length")):
            if data.get(name) is not None:
                schema[key] = data[name]
    return schema


def _rename_field(definition: dict[str, Any], old: str, new: str) -> None:
    properties = ensure(definition, "form", "schema", "properties")
    properties[new] = properties.pop(old, {})
    hints = obj(definition, "form", "ui", "fields")
    if old in hints:
        hints[new] = hints.pop(old)
    for hint in hints.values():
        condition = obj(hint, "show_if")
        if condition.get("field") == old:
            condition["field"] = new
    required = items(definition, "form", "schema", "required")
    required[:] = [new if n == old else n for n in required]
    for step in steps(definition):
        names = items(step, "fields")
        names[:] = [new if n == old else n for n in names]
    for t in transitions(definition):
        needed = items(t, "requires_fields")
        needed[:] = [new if n == old else n for n in needed]
        if obj(t, "guard").get("field") == old:
            t["guard"]["field"] = new


def save_field(definition: dict[str, Any], old: str | None, data: dict[str, Any]) -> None:
    """Add (``old`` is None) or change the form field ``old``; renaming it renames it wherever
    the definition names it."""
    name = data["name"]
    if old is not None and old != name:
        _rename_field(definition, old, name)
    schema = ensure(definition, "form", "schema")
    schema.setdefault("type", "object")
    properties = ensure(definition, "form", "schema", "properties")
    properties[name] = _field_schema(properties.get(name), data)
    required = ensure_list(schema, "required")
    if data["required"] and name not in required:
        required.append(name)
    elif not data["required"] and name in required:
        required.remove(name)
    if not required:
        del schema["required"]
    hints = ensure(definition, "form", "ui", "fields")
    hint = hints[name] if isinstance(hints.get(name), dict) else {}
    hint["label"] = texts(data["label_sr"], data["label_en"])
    if data["help_sr"] or data["help_en"]:
        hint["help"] = texts(data["help_sr"], data["help_en"])
    else:
        hint.pop("help", None)
    if data["widget"]:
        hint["widget"] = data["widget"]
    else:
        hint.pop("widget", None)
    hints[name] = hint
    _place(definition, name, int(data["step"]))


def _place(definition: dict[str, Any], name: str, index: int) -> None:
    """Put the field in step ``index`` (and in no other), at the end unless it is there."""
    all_steps = ensure_list(ensure(definition, "form", "ui"), "steps")
    for i, step in enumerate(all_steps):
        if not isinstance(step, dict):
            continue
        names = ensure_list(step, "fields")
        if i != index and name in names:
            names.remove(name)
        elif i == index and name not in names:
            names.append(name)


def remove_field(definition: dict[str, Any], name: str) -> None:
    obj(definition, "form", "schema", "properties").pop(name, None)
    schema = obj(definition, "form", "schema")
    required = items(schema, "required")
    if name in required:
        required.remove(name)
        if not required:
            del schema["required"]
    obj(definition, "form", "ui", "fields").pop(name, None)
    for step in steps(definition):
        names = items(step, "fields")
        if name in names:
            names.remove(name)


def move_field(definition: dict[str, Any], name: str, by: int) -> None:
    for step in steps(definition):
        names = items(step, "fields")
        if name in names:
            _move(names, names.index(name), by)


def _move(values: list[Any], index: int, by: int) -> None:
    target = index + by
    if 0 <= index < len(values) and 0 <= target < len(values):
        values[index], values[target] = values[target], values[index]


# --- steps --------------------------------------------------------------------------------------


def step_initial(step: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": step.get("id", ""),
        "title_sr": text_of(step.get("title"), "sr"),
        "title_en": text_of(step.get("title"), "en"),
    }


def save_step(definition: dict[str, Any], index: int | None, data: dict[str, Any]) -> None:
    all_steps = ensure_list(ensure(definition, "form", "ui"), "steps")
    if index is None:
        all_steps.append({"id": data["id"], "title": texts(data["title_sr"], data["title_en"]),
                          "fields": []})  # fmt: skip
        return
    step = all_steps[index] if isinstance(all_steps[index], dict) else {"fields": []}
    step["id"] = data["id"]
    step["title"] = texts(data["title_sr"], data["title_en"])
    all_steps[index] = step


def move_step(definition: dict[str, Any], index: int, by: int) -> None:
    _move(items(definition, "form", "ui", "steps"), index, by)


def remove_step(definition: dict[str, Any], index: int) -> None:
    all_steps = items(definition, "form", "ui", "steps")
    if 0 <= index < len(all_steps):
        del all_steps[index]


# --- workflow -----------------------------------------------------------------------------------


def state_initial(name: str, state: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": name,
        "label_sr": text_of(state.get("label"), "sr"),
        "label_en": text_of(state.get("label"), "en"),
        "final": state.get("final") is True,
        "waits_for_applicant": state.get("waits_for_applicant") is True,
    }


def save_state(definition: dict[str, Any], old: str | None, data: dict[str, Any]) -> None:
    workflow = ensure(definition, "workflow")
    all_states = ensure(definition, "workflow", "states")
    name = data["id"]
    if old is not None and old != name:
        all_states[name] = all_states.pop(old, {})
        if workflow.get("initial") == old:
            workflow["initial"] = name
        for t in transitions(definition):
            if t.get("to") == old:
                t["to"] = name
            if t.get("from") == old:
                t["from"] = name
            elif isinstance(t.get("from"), list):
                t["from"] = [name if s == old else s for s in t["from"]]
        for notification in items(definition, "notifications"):
            if isinstance(notification, dict) and notification.get("on") == f"state:{old}":
                notification["on"] = f"state:{name}"
    state = all_states[name] if isinstance(all_states.get(name), dict) else {}
    state["label"] = texts(data["label_sr"], data["label_en"])
    for key in ("final", "waits_for_applicant"):
        if data[key]:
            state[key] = True
        else:
            state.pop(key, None)
    all_states[name] = state
    if not isinstance(workflow.get("initial"), str) or workflow["initial"] not in all_states:
        workflow["initial"] = name
    ensure_list(workflow, "transitions")


def remove_state(definition: dict[str, Any], name: str) -> None:
    obj(definition, "workflow", "states").pop(name, None)


def set_initial(definition: dict[str, Any], name: str) -> None:
    ensure(definition, "workflow")["initial"] = name


def parse_input(lines: str) -> tuple[list[tuple[str, str, bool, str, str]], list[str]]:
    """The input fields of a transition, one a line: ``name type [required] [| Serbian label
    | English label]``; (fields, problems)."""
    found: list[tuple[str, str, bool, str, str]] = []
    problems: list[str] = []
    for number, line in enumerate(lines.splitlines(), start=1):
        if not line.strip():
            continue
        head, *labels = [part.strip() for part in line.split("|")]
        words = head.split()
        required = len(words) == 3 and words[2] == "required"
        if len(words) not in (2, 3) or (len(words) == 3 and not required):
            problems.append(
                str(_("Line %(n)d: write “name type”, “name type required”, then labels.")
                    % {"n": number})
            )  # fmt: skip
            continue
        name, kind = words[0], words[1]
        if not NAME_RE.fullmatch(name):
            problems.append(str(_("Line %(n)d: “%(name)s” is not a valid name.")
                                % {"n": number, "name": name}))  # fmt: skip
        elif kind not in INPUT_TYPES:
            problems.append(
                str(_("Line %(n)d: the type must be one of %(types)s.")
                    % {"n": number, "types": ", ".join(INPUT_TYPES)})
            )  # fmt: skip
        elif labels and (len(labels) != 2 or not all(labels)):
            problems.append(str(_("Line %(n)d: give the label in Serbian and in English.")
                                % {"n": number}))  # fmt: skip
        elif any(f[0] == name for f in found):
            problems.append(str(_("Line %(n)d: “%(name)s” is listed twice.")
                                % {"n": number, "name": name}))  # fmt: skip
        else:
            sr, en = (labels + ["", ""])[:2]
            found.append((name, kind, required, sr, en))
    return found, problems


def input_lines(transition: dict[str, Any]) -> str:
    schema = obj(transition, "input")
    required = items(schema, "required")
    hints = obj(transition, "ui", "fields")
    lines = []
    for name, prop in obj(schema, "properties").items():
        kind = field_type(prop)
        kind = kind if kind in INPUT_TYPES else "string"
        line = f"{name} {kind}" + (" required" if name in required else "")
        label = obj(hints, name).get("label")
        if isinstance(label, dict) and label.get("sr") and label.get("en"):
            line += f" | {label['sr']} | {label['en']}"
        lines.append(line)
    return "\n".join(lines)


def _save_input(transition: dict[str, Any], fields: list[tuple[str, str, bool, str, str]]) -> None:
    if not fields:
        transition.pop("input", None)
        transition.pop("ui", None)
        return
    old = obj(transition, "input", "properties")
    properties: dict[str, Any] = {}
    for name, kind, _required, _sr, _en in fields:
        same = field_type(old.get(name)) == kind
        properties[name] = old[name] if same else dict(INPUT_TYPES[kind])
    schema = {k: v for k, v in obj(transition, "input").items() if k not in {"required"}}
    schema.update({"type": "object", "properties": properties})
    required = [name for name, _kind, needed, _sr, _en in fields if needed]
    if required:
        schema["required"] = required
    transition["input"] = schema
    hints = {n: h for n, h in obj(transition, "ui", "fields").items() if n in properties}
    for name, _kind, _needed, sr, en in fields:
        if sr and en:
            hints[name] = {**obj(hints, name), "label": texts(sr, en)}
    if hints:
        ensure(transition, "ui")["fields"] = hints
    else:
        transition.pop("ui", None)


def transition_initial(transition: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": transition.get("id", ""),
        "sources": sources(transition),
        "target": transition.get("to", ""),
        "label_sr": text_of(transition.get("label"), "sr"),
        "label_en": text_of(transition.get("label"), "en"),
        "roles": items(transition, "roles"),
        "opinion": transition.get("opinion") is True,
        "requires_fields": items(transition, "requires_fields"),
        "input": input_lines(transition),
    }


def save_transition(definition: dict[str, Any], index: int | None, data: dict[str, Any]) -> None:
    """Add (``index`` is None) or change a transition; keys the editor does not show (guard,
    timer, approval) are kept."""
    all_transitions = ensure_list(ensure(definition, "workflow"), "transitions")
    if index is None:
        transition: dict[str, Any] = {}
        all_transitions.append(transition)
    else:
        old = all_transitions[index]
        transition = old if isinstance(old, dict) else {}
        all_transitions[index] = transition
        if old is transition and old.get("id") != data["id"]:
            for notification in items(definition, "notifications"):
                if isinstance(notification, dict) and notification.get("on") == (
                    f"transition:{old.get('id')}"
                ):
                    notification["on"] = f"transition:{data['id']}"
    chosen = list(data["sources"])
    transition.update(
        {
            "id": data["id"],
            "from": chosen[0] if len(chosen) == 1 else chosen,
            "to": data["target"],
            "label": texts(data["label_sr"], data["label_en"]),
            "roles": list(data["roles"]),
        }
    )
    for key in ("opinion",):
        if data[key]:
            transition[key] = True
        else:
            transition.pop(key, None)
    if data["requires_fields"]:
        transition["requires_fields"] = list(data["requires_fields"])
    else:
        transition.pop("requires_fields", None)
    _save_input(transition, data["input"])
    ordered = ["id", "from", "to", "label", "roles"]
    reordered = {k: transition[k] for k in ordered} | {
        k: v for k, v in transition.items() if k not in ordered
    }
    transition.clear()
    transition.update(reordered)


def remove_transition(definition: dict[str, Any], index: int) -> None:
    all_transitions = items(definition, "workflow", "transitions")
    if 0 <= index < len(all_transitions):
        del all_transitions[index]


# --- deadline and fees --------------------------------------------------------------------------


def deadline_initial(definition: Any) -> dict[str, Any]:
    deadline = obj(definition, "deadline")
    return {"days": deadline.get("days", 30), "working_days": deadline.get("working_days") is True}


def save_deadline(definition: dict[str, Any], data: dict[str, Any]) -> None:
    definition["deadline"] = {"days": data["days"], "working_days": bool(data["working_days"])}


def fee_initial(fee: dict[str, Any]) -> dict[str, Any]:
    return {
        "code": fee.get("code", ""),
        "label_sr": text_of(fee.get("label"), "sr"),
        "label_en": text_of(fee.get("label"), "en"),
        "amount": fee.get("amount", ""),
    }


def save_fee(definition: dict[str, Any], index: int | None, data: dict[str, Any]) -> None:
    fee = {
        "code": data["code"],
        "label": texts(data["label_sr"], data["label_en"]),
        "amount": f"{data['amount']:.2f}",
        "currency": "RSD",
    }
    all_fees = ensure_list(definition, "fees")
    if index is None:
        all_fees.append(fee)
    else:
        all_fees[index] = fee


def remove_fee(definition: dict[str, Any], index: int) -> None:
    all_fees = items(definition, "fees")
    if 0 <= index < len(all_fees):
        del all_fees[index]
    if not all_fees and "fees" in definition:
        del definition["fees"]


# --- one edit of the editor page ------------------------------------------------------------------


def edited(definition: Any) -> dict[str, Any]:
    """A copy to edit: the draft's own definition is never changed in place."""
    return copy.deepcopy(definition) if isinstance(definition, dict) else {}


class NoSuchItem(LookupError):
    """An edit names an item the definition does not have (any more)."""


def item_key(section: str, raw: str, definition: Any) -> Any:
    """The item an edit of ``section`` is about, from the key its form sent: a name, an index,
    or None for a new item; :class:`NoSuchItem` if it is not there (any more)."""
    if not raw:
        return None
    if section in {"step", "transition", "fee"}:
        found = {"step": steps, "transition": transitions, "fee": fees}
        if raw.isdigit() and int(raw) < len(found[section](definition)):
            return int(raw)
        raise NoSuchItem(raw)
    names = {"field": form_fields, "state": lambda d: list(states(d))}
    if section in names and raw in names[section](definition):
        return raw
    raise NoSuchItem(raw)


def item_anchor(section: str, key: Any) -> str:
    """The item's id on the editor page (what :attr:`Place.item` names)."""
    if section in {"initial", "deadline", "raw"}:
        return section
    return f"new-{section}" if key is None else f"{section}-{key}"


def refusal(section: str, action: str, key: Any, definition: Any) -> str:
    """Why an edit of an existing item (``key``) cannot be made, or "": a step is removed
    only once it has no fields, which would otherwise be left in no step."""
    if section == "step" and action == "remove" and items(steps(definition)[key], "fields"):
        return str(_("Move the fields of this step to another step first."))
    return ""


def apply_edit(section: str, action: str, key: Any, definition: dict[str, Any], data: Any) -> str:
    """Change ``definition`` by one edit: ``action`` (save, remove, up, down) of the item
    ``key`` of ``section`` (None: a new one), with its form's cleaned ``data`` when saving.
    The anchor of the item to show afterwards."""
    if section == "field":
        if action == "remove":
            remove_field(definition, key)
            return "fields"
        if action in {"up", "down"}:
            move_field(definition, key, -1 if action == "up" else 1)
            return f"field-{key}"
        save_field(definition, key, data)
        return f"field-{data['name']}"
    if section == "step":
        if action == "remove":
            remove_step(definition, key)
            return "steps"
        if action in {"up", "down"}:
            move_step(definition, key, -1 if action == "up" else 1)
            return "steps"
        save_step(definition, key, data)
        return f"step-{key if key is not None else len(steps(definition)) - 1}"
    if section == "initial":
        set_initial(definition, data["state"])
        return "initial"
    if section == "state":
        if action == "remove":
            remove_state(definition, key)
            return "states"
        save_state(definition, key, data)
        return f"state-{data['id']}"
    if section == "transition":
        if action == "remove":
            remove_transition(definition, key)
            return "transitions"
        save_transition(definition, key, data)
        return f"transition-{key if key is not None else len(transitions(definition)) - 1}"
    if section == "deadline":
        save_deadline(definition, data)
        return "deadline"
    if action == "remove":
        remove_fee(definition, key)
        return "fees"
    save_fee(definition, key, data)
    return f"fee-{key if key is not None else len(fees(definition)) - 1}"


# --- where an error is shown ----------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """An item of the editor (its HTML id, e.g. ``transition-2``) and the input in it that
    shows the problem (a form field's name, e.g. ``roles``; empty for the item as a whole)."""

    item: str
    input: str = ""


RAW = Place("raw", "definition")


def _unescape(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")


def _parts(path: str) -> list[str]:
    return [_unescape(p) for p in path.split("/")[1:]] if path else []


def _index(value: str) -> int | None:
    return int(value) if value.isdigit() else None


def _text_input(prefix: str, rest: list[str]) -> str:
    if rest[1:2] == ["en"]:
        return f"{prefix}_en"
    return f"{prefix}_sr"


_FIELD_SCHEMA_INPUTS = {
    "minimum": "minimum", "exclusiveMinimum": "minimum", "maximum": "maximum",
    "exclusiveMaximum": "maximum", "minLength": "min_length", "maxLength": "max_length",
    "enum": "options", "type": "type", "format": "type",
}  # fmt: skip
_TRANSITION_INPUTS = {
    "id": "id", "from": "sources", "to": "target", "roles": "roles", "opinion": "opinion",
    "requires_fields": "requires_fields", "input": "input", "ui": "input",
}  # fmt: skip


def locate(path: str, definition: Any) -> Place:  # noqa: C901 — one table, read top to bottom
    """Where the editor shows a problem at JSON Pointer ``path`` (the raw JSON box for what
    the structured editor does not cover)."""
    p = _parts(path)
    head = p[:3]
    if head == ["form", "schema", "properties"] and len(p) > 3:
        return Place(
            f"field-{p[3]}", _FIELD_SCHEMA_INPUTS.get(p[4], "name") if len(p) > 4 else "name"
        )
    if head == ["form", "schema", "required"] and len(p) == 4:
        required = items(definition, "form", "schema", "required")
        i = _index(p[3])
        if i is not None and i < len(required) and required[i] in form_fields(definition):
            return Place(f"field-{required[i]}", "required")
        return RAW
    if head == ["form", "ui", "fields"] and len(p) > 3:
        if p[3] not in form_fields(definition):
            return RAW
        rest = p[4:]
        if rest[:1] in (["label"], ["help"]):
            return Place(f"field-{p[3]}", _text_input(rest[0], rest))
        if rest[:1] == ["widget"]:
            return Place(f"field-{p[3]}", "widget")
        return Place(f"field-{p[3]}", "")
    if head == ["form", "ui", "steps"] and len(p) > 3:
        i = _index(p[3])
        if i is None:
            return RAW
        rest = p[4:]
        if rest[:1] == ["fields"] and len(rest) == 2:
            listed = items(steps(definition)[i] if i < len(steps(definition)) else {}, "fields")
            j = _index(rest[1])
            if j is not None and j < len(listed) and listed[j] in form_fields(definition):
                return Place(f"field-{listed[j]}", "step")
        if rest[:1] == ["id"]:
            return Place(f"step-{i}", "id")
        if rest[:1] == ["title"]:
            return Place(f"step-{i}", _text_input("title", rest))
        return Place(f"step-{i}", "")
    if p[:1] == ["form"]:
        return Place("steps" if p[:3] == ["form", "ui", "steps"] else "fields", "")
    if p[:2] == ["workflow", "initial"]:
        return Place("initial", "state")
    if p[:2] == ["workflow", "states"] and len(p) > 2:
        rest = p[3:]
        if rest[:1] == ["label"]:
            return Place(f"state-{p[2]}", _text_input("label", rest))
        if rest[:1] in (["final"], ["waits_for_applicant"]):
            return Place(f"state-{p[2]}", rest[0])
        return Place(f"state-{p[2]}", "")
    if p[:2] == ["workflow", "transitions"] and len(p) > 2 and _index(p[2]) is not None:
        rest = p[3:]
        if rest[:1] == ["label"]:
            return Place(f"transition-{p[2]}", _text_input("label", rest))
        return Place(f"transition-{p[2]}", _TRANSITION_INPUTS.get(rest[0], "") if rest else "")
    if p[:1] == ["workflow"]:
        return Place("transitions" if p[:2] == ["workflow", "transitions"] else "states", "")
    if p[:1] == ["deadline"]:
        return Place("deadline", p[1] if len(p) > 1 and p[1] in {"days", "working_days"} else "")
    if p[:1] == ["fees"] and len(p) > 1 and _index(p[1]) is not None:
        rest = p[2:]
        if rest[:1] == ["label"]:
            return Place(f"fee-{p[1]}", _text_input("label", rest))
        return Place(f"fee-{p[1]}", rest[0] if rest and rest[0] in {"code", "amount"} else "")
    return RAW


def problems_by_place(
    errors: list[Any], definition: Any, shown: set[str]
) -> Iterator[tuple[Place, Any]]:
    """Each error with the place that shows it; an item not on the page (``shown``) falls back
    to the raw JSON box."""
    for error in errors:
        place = locate(error.path, definition)
        yield (place if place.item in shown else RAW), error
