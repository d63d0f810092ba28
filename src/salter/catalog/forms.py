"""The applicant's form, built from a service definition: what to render on each step, and the
server-side validation of what comes back.

A definition's form is a JSON Schema 2020-12 object (``form.schema``) plus UI hints
(``form.ui``: steps, and per field a label, help, widget and ``show_if``). :class:`ServiceForm`
turns it into steps of :class:`BoundField` for a template (``catalog/form_step.html``) and
validates what the applicant posts: strings are converted to the schema's types, JMBG and PIB
fields are checked with their check digits, and then the data is validated against the schema.
Each field gets at most **one** message, in the user's language; jsonschema's own English text
is never shown.

Conditions (``show_if``) work without JavaScript: a field whose condition reads a field of an
*earlier* step is shown or left out when its step is rendered; a field whose condition reads a
field of the *same* (or a later) step is always rendered, with a note saying when it is needed,
and the condition is evaluated on the server when the step is posted. A field that is hidden by
its condition is never required and its value is dropped from the data.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaValidationError

from salter.identity.validators import validate_jmbg, validate_pib

__all__ = ["BoundField", "Choice", "Cleaned", "RenderedStep", "ServiceForm", "text"]

WIDGETS = {
    "text", "textarea", "number", "money", "date", "email", "phone", "jmbg", "pib",
    "select", "radio", "checkbox", "file",
}  # fmt: skip
# Up to this many options a choice is a radio group, beyond it a drop-down list.
RADIO_MAX = 4
_CHECKED = {"on", "true", "1", "yes"}
_SR_DATE = re.compile(r"^\s*(\d{1,2})\.\s*(\d{1,2})\.\s*(\d{4})\.?\s*$")
_ID_VALIDATORS: dict[str, Callable[[str], None]] = {"jmbg": validate_jmbg, "pib": validate_pib}


class PostedData(Protocol):
    """What a form posts: Django's ``QueryDict`` or a dict of lists."""

    def getlist(self, key: str) -> list[Any]: ...


def text(value: Any, language: str | None = None) -> str:
    """A definition text (``{"sr": …, "en": …}``) in ``language``: English for ``en``, else
    Serbian Cyrillic (sr-Latn pages are transliterated by the site). A plain string is kept."""
    if isinstance(value, str):
        return value
    if not isinstance(value, Mapping):
        return ""
    language = language or translation.get_language() or "sr"
    key = "en" if language.startswith("en") else "sr"
    return str(value.get(key) or value.get("sr") or value.get("en") or "")


@dataclass(frozen=True)
class Choice:
    value: str  # as posted
    label: str
    selected: bool
    id: str


@dataclass(frozen=True)
class BoundField:
    """One field as a template renders it."""

    name: str
    id: str
    label: str
    help: str
    widget: str
    required: bool
    value: str = ""
    checked: bool = False
    choices: tuple[Choice, ...] = ()
    multiple: bool = False  # a group of checkboxes
    error: str = ""
    note: str = ""  # when a conditional field is needed
    input_type: str = "text"
    inputmode: str = ""
    autocomplete: str = ""

    @property
    def help_id(self) -> str:
        return f"{self.id}_helptext"

    @property
    def error_id(self) -> str:
        return f"{self.id}_error"

    @property
    def note_id(self) -> str:
        return f"{self.id}_note"

    @property
    def describedby(self) -> str:
        ids = [self.error_id if self.error else "", self.note_id if self.note else ""]
        ids.append(self.help_id if self.help else "")
        return " ".join(i for i in ids if i)

    @property
    def is_group(self) -> bool:
        """Rendered as a fieldset with a legend: radios and groups of checkboxes."""
        return self.widget == "radio" or self.multiple

    @property
    def anchor(self) -> str:
        """Where the error summary links to: the first control of a group."""
        return self.choices[0].id if self.is_group and self.choices else self.id


@dataclass(frozen=True)
class StepTitle:
    number: int
    title: str
    current: bool


@dataclass(frozen=True)
class RenderedStep:
    number: int  # 1-based
    count: int
    id: str
    title: str
    fields: tuple[BoundField, ...]
    steps: tuple[StepTitle, ...]

    @property
    def errors(self) -> list[BoundField]:
        return [f for f in self.fields if f.error]

    @property
    def is_first(self) -> bool:
        return self.number == 1

    @property
    def is_last(self) -> bool:
        return self.number == self.count

    @property
    def has_file(self) -> bool:
        return any(f.widget == "file" for f in self.fields)


@dataclass
class Cleaned:
    """The outcome of validating a step or the whole form."""

    data: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)  # what was posted, to show it again

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class _Spec:
    name: str
    schema: Mapping[str, Any]
    hint: Mapping[str, Any]
    widget: str
    kind: str  # string, integer, number, boolean, array
    choices: tuple[tuple[Any, Any], ...]  # (JSON value, label text)
    step: int  # 0-based

    @property
    def condition(self) -> Mapping[str, Any] | None:
        condition = self.hint.get("show_if")
        return condition if isinstance(condition, Mapping) else None

    @property
    def string_format(self) -> str:
        return str(self.schema.get("format", ""))


class ServiceForm:
    """The form of one definition, in one language (default: the active one)."""

    def __init__(self, definition: Mapping[str, Any], language: str | None = None) -> None:
        form = definition["form"]
        self.schema: Mapping[str, Any] = form["schema"]
        self.properties: Mapping[str, Any] = self.schema.get("properties", {})
        self.required: set[str] = set(self.schema.get("required", []))
        self.ui_steps: list[Mapping[str, Any]] = list(form["ui"]["steps"])
        hints: Mapping[str, Any] = form["ui"].get("fields", {})
        self.language = language or translation.get_language() or "sr"
        self.specs: dict[str, _Spec] = {}
        for index, step in enumerate(self.ui_steps):
            for name in step["fields"]:
                schema = self.properties.get(name, {})
                schema = schema if isinstance(schema, Mapping) else {}
                self.specs[name] = _spec(name, schema, hints.get(name, {}), index)

    @property
    def count(self) -> int:
        return len(self.ui_steps)

    def t(self, value: Any) -> str:
        return text(value, self.language)

    # --- conditions --------------------------------------------------------------------------

    def visible(self, name: str, data: Mapping[str, Any]) -> bool:
        """Whether the field is asked for, given the data (a chain of conditions is followed)."""
        seen: set[str] = set()
        spec = self.specs[name]
        while spec.condition is not None and spec.name not in seen:
            seen.add(spec.name)
            other = str(spec.condition["field"])
            if other not in data or data[other] != spec.condition["equals"]:
                return False
            if other not in self.specs:
                return True
            spec = self.specs[other]
        return True

    def _decided_before(self, spec: _Spec) -> bool:
        """Whether the condition of ``spec`` reads only fields of earlier steps."""
        condition = spec.condition
        if condition is None:
            return True
        other = self.specs.get(str(condition["field"]))
        return other is not None and other.step < spec.step

    def visible_in_step(self, spec: _Spec, data: Mapping[str, Any]) -> bool:
        """Rendered on its step: a condition on an earlier step is decided by now; one on the
        same or a later step is not, so the field is rendered with a note."""
        return not self._decided_before(spec) or self.visible(spec.name, data)

    # --- rendering ---------------------------------------------------------------------------

    def step_number(self, value: object) -> int:
        """A step number from a query string, clamped to the steps there are."""
        try:
            number = int(str(value))
        except (TypeError, ValueError):
            return 1
        return min(max(number, 1), self.count)

    def render(
        self,
        number: int,
        data: Mapping[str, Any],
        errors: Mapping[str, str] | None = None,
        raw: Mapping[str, Any] | None = None,
    ) -> RenderedStep:
        """Step ``number`` (1-based) with the data so far, the errors and what was posted."""
        errors = errors or {}
        raw = raw or {}
        step = self.ui_steps[number - 1]
        fields = tuple(
            self._bind(spec, data, errors.get(name, ""), raw)
            for name in step["fields"]
            if (spec := self.specs[name]) and self.visible_in_step(spec, data)
        )
        titles = tuple(
            StepTitle(i, self.t(s["title"]), i == number) for i, s in enumerate(self.ui_steps, 1)
        )
        return RenderedStep(
            number, self.count, str(step["id"]), self.t(step["title"]), fields, titles
        )

    def _bind(
        self, spec: _Spec, data: Mapping[str, Any], error: str, raw: Mapping[str, Any]
    ) -> BoundField:
        fid = f"id_{spec.name}"
        multiple = spec.kind == "array"
        if spec.name in raw:
            posted = raw[spec.name]
            values = [str(v) for v in posted] if isinstance(posted, list) else [str(posted)]
        else:
            values = _display(data.get(spec.name), spec)
        value = values[0] if values else ""
        choices = tuple(
            Choice(_posted(v), self.t(label), _posted(v) in values, f"{fid}_{i}")
            for i, (v, label) in enumerate(spec.choices)
        )
        conditional = not self._decided_before(spec)
        return BoundField(
            name=spec.name,
            id=fid,
            label=self.t(spec.hint.get("label")) or spec.name,
            help=self.t(spec.hint.get("help")),
            widget=spec.widget,
            required=spec.name in self.required and not conditional,
            value=value,
            checked=spec.kind == "boolean" and value == "true",
            choices=choices,
            multiple=multiple,
            error=error,
            note=self._note(spec) if conditional else "",
            input_type=_INPUT_TYPES.get(spec.widget, "text"),
            inputmode=_inputmode(spec),
            autocomplete=_AUTOCOMPLETE.get(spec.widget, ""),
        )

    def _note(self, spec: _Spec) -> str:
        condition = spec.condition
        assert condition is not None
        other = self.specs.get(str(condition["field"]))
        if other is None:
            return ""
        label = self.t(other.hint.get("label")) or other.name
        equals = condition["equals"]
        if other.kind == "boolean" and other.widget == "checkbox":
            if equals is True:
                return _("Needed only if you tick “%(field)s”.") % {"field": label}
            return _("Needed only if you leave “%(field)s” unticked.") % {"field": label}
        shown = next((self.t(lbl) for v, lbl in other.choices if v == equals), None)
        if shown is None:
            shown = _("yes") if equals is True else _("no") if equals is False else str(equals)
        return _("Needed only if “%(field)s” is “%(value)s”.") % {"field": label, "value": shown}

    # --- validation --------------------------------------------------------------------------

    def clean_step(
        self,
        number: int,
        posted: PostedData,
        data: Mapping[str, Any],
        files: Mapping[str, Any] | None = None,
    ) -> Cleaned:
        """Validate the fields of step ``number`` as posted, given the data of the other steps.
        ``data`` of the result is the step's values (hidden fields dropped); ``files`` maps a
        file field to the uploaded file's name (the file itself is stored by the case)."""
        result = Cleaned()
        specs = [
            s for s in (self.specs[n] for n in self.ui_steps[number - 1]["fields"])
            if self.visible_in_step(s, data)
        ]  # fmt: skip
        for spec in specs:
            values = [str(v) for v in posted.getlist(spec.name)]
            if spec.widget == "file":
                uploaded = (files or {}).get(spec.name)
                values = [str(uploaded)] if uploaded else _display(data.get(spec.name), spec)
            result.raw[spec.name] = values if spec.kind == "array" else "".join(values[:1])
            try:
                value = _convert(spec, values)
            except ValidationError as exc:
                result.errors[spec.name] = exc.messages[0]
                continue
            if value is not None:
                result.data[spec.name] = value
        merged = {**data, **result.data}
        for spec in specs:  # a condition on a field of this step is decided now
            if self._hidden(spec, merged):
                result.data.pop(spec.name, None)
                result.errors.pop(spec.name, None)
        names = [s.name for s in specs if s.name not in result.errors]
        # Required only when surely asked for: not while it waits for a later step's answer.
        required = [n for n in names if n in self.required and self.visible(n, merged)]
        self._check(result, names, required)
        return result

    def _hidden(self, spec: _Spec, data: Mapping[str, Any]) -> bool:
        """Surely hidden: its condition is decided and false. A condition on a field of a later
        step that is not filled in yet is undecided; the whole form is checked at the end."""
        if self.visible(spec.name, data):
            return False
        condition = spec.condition
        assert condition is not None
        other = self.specs.get(str(condition["field"]))
        return other is None or other.step <= spec.step or other.name in data

    def validate(self, data: Mapping[str, Any]) -> Cleaned:
        """The whole form, as submitted: fields hidden by a condition (and unknown keys) are
        dropped, then every field is checked. The same check serves an API submission."""
        result = Cleaned(
            data={n: v for n, v in data.items() if n in self.specs and self.visible(n, data)}
        )
        names = list(result.data)
        for name in names:
            spec = self.specs[name]
            check = _ID_VALIDATORS.get(spec.widget)
            if check is not None and isinstance(result.data[name], str):
                try:
                    check(result.data[name])
                except ValidationError as exc:
                    result.errors[name] = exc.messages[0]
        visible = [n for n in self.specs if self.visible(n, result.data)]
        required = [n for n in visible if n in self.required]
        self._check(result, [n for n in visible if n not in result.errors], required)
        return result

    def summary(self, data: Mapping[str, Any]) -> list[tuple[str, str]]:
        """(label, value as the applicant chose it) of every field asked for, in form order:
        the "check your answers" list."""
        rows = []
        for name, spec in self.specs.items():
            if name not in data or not self.visible(name, data):
                continue
            value = data[name]
            values = value if isinstance(value, list) else [value]
            labels = {_posted(v): self.t(label) for v, label in spec.choices}
            shown = []
            for item in values:
                if isinstance(item, bool) and not labels:
                    shown.append(_("Yes") if item else _("No"))
                else:
                    shown.append(labels.get(_posted(item), _posted(item)))
            rows.append((self.t(spec.hint.get("label")) or name, ", ".join(shown)))
        return rows

    def first_step_with_error(self, errors: Iterable[str]) -> int:
        steps = [self.specs[n].step for n in errors if n in self.specs]
        return min(steps) + 1 if steps else 1

    def _check(self, result: Cleaned, names: list[str], required: list[str]) -> None:
        """jsonschema 2020-12 over ``names``; the first problem of each field becomes its
        message (type and presence first, then format, then limits)."""
        schema: dict[str, Any] = {
            "type": "object",
            "properties": {n: self.properties.get(n, True) for n in names},
            "required": [n for n in required if n in names],
        }
        for key in ("$defs", "definitions"):
            if key in self.schema:
                schema[key] = self.schema[key]
        data = {n: v for n, v in result.data.items() if n in names}
        validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        found: dict[str, tuple[int, str]] = {}
        for error in validator.iter_errors(data):
            for name, message, rank in self._messages(error):
                if name in names and (name not in found or rank < found[name][0]):
                    found[name] = (rank, message)
        for name, (_rank, message) in found.items():
            result.errors.setdefault(name, message)
            result.data.pop(name, None)

    def _messages(self, error: SchemaValidationError) -> list[tuple[str, str, int]]:
        if not error.absolute_path:
            if error.validator == "required" and isinstance(error.instance, Mapping):
                return [
                    (name, self._required_message(name), 0)
                    for name in error.validator_value
                    if name not in error.instance
                ]
            return []
        name = str(error.absolute_path[0])
        spec = self.specs.get(name)
        if spec is None:
            return []
        keyword = str(error.validator)
        rank = _RANK.get(keyword, len(_RANK))
        return [(name, _message(spec, keyword, error.validator_value), rank)]

    def _required_message(self, name: str) -> str:
        spec = self.specs.get(name)
        if spec is None:
            return _("Fill in this field.")
        if spec.widget == "file":
            return _("Choose a file.")
        if spec.widget == "checkbox" and spec.kind == "boolean":
            return _("Tick this box to continue.")
        if spec.choices:
            return _("Choose one of the options.")
        return _("Fill in this field.")


# --- fields --------------------------------------------------------------------------------

_INPUT_TYPES = {"date": "date", "email": "email", "phone": "tel", "file": "file"}
_AUTOCOMPLETE = {"email": "email", "phone": "tel"}
_RANK = {
    "type": 1, "format": 2, "enum": 3, "const": 3, "oneOf": 3, "anyOf": 3,
    "minLength": 4, "maxLength": 4, "pattern": 5, "minimum": 4, "maximum": 4,
    "exclusiveMinimum": 4, "exclusiveMaximum": 4, "minItems": 4, "maxItems": 4,
}  # fmt: skip


def _kind(schema: Mapping[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind in {"string", "integer", "number", "boolean", "array"}:
        return str(kind)
    values = _enum_values(schema)
    if values and all(isinstance(v, bool) for v in values):
        return "boolean"
    if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "integer"
    return "string"


def _enum_values(schema: Mapping[str, Any]) -> list[Any]:
    if "enum" in schema:
        return list(schema["enum"])
    if "const" in schema:
        return [schema["const"]]
    options = schema.get("oneOf") or schema.get("anyOf") or []
    return [o["const"] for o in options if isinstance(o, Mapping) and "const" in o]


def _choices(schema: Mapping[str, Any], kind: str) -> tuple[tuple[Any, Any], ...]:
    """Options from ``enum`` (the value is its own label) or ``oneOf``/``anyOf`` of ``const``
    with a ``title`` (a string) or an ``x-title`` (``{"sr", "en"}``); yes/no for a boolean."""
    options = schema.get("oneOf") or schema.get("anyOf")
    if isinstance(options, list) and all(isinstance(o, Mapping) and "const" in o for o in options):
        return tuple(
            (o["const"], o.get("x-title") or o.get("title") or str(o["const"])) for o in options
        )
    if "enum" in schema:
        return tuple((v, str(v)) for v in schema["enum"])
    if kind == "boolean":
        return ((True, {"sr": "Да", "en": "Yes"}), (False, {"sr": "Не", "en": "No"}))
    return ()


def _spec(name: str, schema: Mapping[str, Any], hint: Mapping[str, Any], step: int) -> _Spec:
    kind = _kind(schema)
    source = schema.get("items", {}) if kind == "array" else schema
    choices = _choices(source if isinstance(source, Mapping) else {}, kind)
    widget = str(hint.get("widget", ""))
    if widget not in WIDGETS:
        widget = _default_widget(schema, kind, choices)
    if kind == "boolean" and widget == "checkbox":
        choices = ()  # a single box
    return _Spec(name, schema, hint, widget, kind, choices, step)


def _default_widget(schema: Mapping[str, Any], kind: str, choices: tuple[Any, ...]) -> str:
    if kind == "boolean" or kind == "array":
        return "checkbox"
    if choices:
        return "radio" if len(choices) <= RADIO_MAX else "select"
    if kind in {"integer", "number"}:
        return "number"
    return {"date": "date", "email": "email"}.get(str(schema.get("format", "")), "text")


def _inputmode(spec: _Spec) -> str:
    if spec.widget in {"jmbg", "pib"} or spec.kind == "integer":
        return "numeric"
    if spec.widget in {"number", "money"} or spec.kind == "number":
        return "decimal"
    return ""


def _posted(value: Any) -> str:
    """A JSON value as a form posts it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _display(value: Any, spec: _Spec) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [_posted(v) for v in value]
    return [_posted(value)]


def _convert(spec: _Spec, values: list[str]) -> Any:
    """The JSON value of what was posted, ``None`` when nothing was (an empty box)."""
    values = [v.strip() for v in values if v.strip()]
    if spec.kind == "array":
        items = spec.schema.get("items", {})
        item_kind = _kind(items) if isinstance(items, Mapping) else "string"
        return [_scalar(item_kind, spec, v) for v in values] or None
    if spec.kind == "boolean" and spec.widget == "checkbox":
        return bool(values) and values[0].lower() in _CHECKED
    if not values:
        return None
    return _scalar(spec.kind, spec, values[0])


def _scalar(kind: str, spec: _Spec, value: str) -> Any:
    if kind == "boolean":
        if value.lower() in _CHECKED:
            return True
        if value.lower() in {"false", "0", "no", "off"}:
            return False
        raise ValidationError(_("Choose one of the options."), code="choice")
    if kind == "integer":
        number = _decimal(value)
        if number is None or number != number.to_integral_value():
            raise ValidationError(_("Enter a whole number, for example 12."), code="integer")
        return int(number)
    if kind == "number":
        number = _decimal(value)
        if number is None:
            raise ValidationError(_("Enter a number, for example 2 or 2,5."), code="number")
        return int(number) if number == number.to_integral_value() else float(number)
    check = _ID_VALIDATORS.get(spec.widget)
    if check is not None:
        value = value.replace(" ", "")
        check(value)
    if spec.string_format == "date" or spec.widget == "date":
        return _date(value)
    if spec.string_format == "email" or spec.widget == "email":
        try:
            validate_email(value)
        except ValidationError:
            raise ValidationError(_email_message(), code="email") from None
    return value


def _decimal(value: str) -> Decimal | None:
    cleaned = value.replace(" ", "").replace("\u00a0", "")
    if cleaned.count(",") == 1 and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _date(value: str) -> str:
    """ISO 8601 (what a date input posts) or the Serbian day.month.year."""
    match = _SR_DATE.match(value)
    try:
        if match:
            day, month, year = (int(g) for g in match.groups())
            return dt.date(year, month, day).isoformat()
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise ValidationError(_date_message(), code="date") from None


def _date_message() -> str:
    return _("Enter a real date, for example 31.12.2024.")


def _email_message() -> str:
    return _("Enter an e-mail address like name@example.rs.")


def _number(value: Any) -> str:
    return str(formats.number_format(value)) if isinstance(value, int | float) else str(value)


def _message(spec: _Spec, keyword: str, limit: Any) -> str:
    """One clear, translated message for a jsonschema keyword that failed."""
    count = limit if isinstance(limit, int) else 0
    if keyword == "type":
        if spec.kind == "integer":
            return _("Enter a whole number, for example 12.")
        if spec.kind == "number":
            return _("Enter a number, for example 2 or 2,5.")
        return _("This value is not valid.")
    if keyword == "format":
        if limit == "date":
            return _date_message()
        if limit == "email":
            return _email_message()
        return _("This value is not valid.")
    if keyword in {"enum", "const", "oneOf", "anyOf"}:
        return _("Choose one of the options.")
    if keyword == "minLength":
        return ngettext(
            "Enter at least %(limit)d character.", "Enter at least %(limit)d characters.", count
        ) % {"limit": count}
    if keyword == "maxLength":
        return ngettext(
            "Enter at most %(limit)d character.", "Enter at most %(limit)d characters.", count
        ) % {"limit": count}
    if keyword == "minItems":
        return ngettext(
            "Choose at least %(limit)d option.", "Choose at least %(limit)d options.", count
        ) % {"limit": count}
    if keyword == "maxItems":
        return ngettext(
            "Choose at most %(limit)d option.", "Choose at most %(limit)d options.", count
        ) % {"limit": count}
    if keyword == "minimum":
        return _("Enter a number of at least %(limit)s.") % {"limit": _number(limit)}
    if keyword == "exclusiveMinimum":
        return _("Enter a number greater than %(limit)s.") % {"limit": _number(limit)}
    if keyword == "maximum":
        return _("Enter a number of at most %(limit)s.") % {"limit": _number(limit)}
    if keyword == "exclusiveMaximum":
        return _("Enter a number less than %(limit)s.") % {"limit": _number(limit)}
    if keyword == "pattern":
        return _("This is not in the expected form; please check it.")
    if keyword == "uniqueItems":
        return _("Choose each option only once.")
    return _("This value is not valid.")
