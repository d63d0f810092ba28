"""Validation of service definitions (format v1).

First the meta-schema (``schemas/service-definition-v1.json``, JSON Schema 2020-12), and the
form's and inputs' own schemas as 2020-12 schemas; then the rules a schema cannot express: every
state named exists and is reachable, every non-final state has a way out, every transition names
roles that exist, every field a transition, condition or calculation reads is there when it is
read. Each problem is a :class:`DefinitionError` whose ``path`` is a JSON Pointer (RFC 6901)
into the definition, so an editor can show the message beside the place it concerns.
"""

from __future__ import annotations

import hashlib
import json
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from salter.catalog import formulas
from salter.identity.models import Role

SCHEMA_PATH = Path(__file__).parent / "schemas" / "service-definition-v1.json"
APPLICANT = "applicant"


@dataclass(frozen=True)
class DefinitionError:
    path: str  # JSON Pointer, "" for the whole document
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


class InvalidDefinition(Exception):  # noqa: N818 — reads as "raise InvalidDefinition(errors)"
    def __init__(self, errors: list[DefinitionError]) -> None:
        super().__init__("; ".join(f"{e.path or '/'}: {e.message}" for e in errors))
        self.errors = errors


@cache
def meta_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(meta_schema())


def pointer(*parts: str | int) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def role_codes() -> set[str]:
    return {str(value) for value in Role.values}


def validate(definition: object) -> list[DefinitionError]:
    """Every problem of ``definition``, in document order; an empty list means it is valid."""
    if not isinstance(definition, dict):
        return [DefinitionError("", _("The definition must be a JSON object."))]
    errors = [
        DefinitionError(pointer(*e.absolute_path), e.message)
        for e in sorted(_validator().iter_errors(definition), key=lambda e: list(e.path))
    ]
    if errors:
        return errors  # the semantic checks below rely on the shape
    errors += _embedded_schemas(definition)
    errors += _Semantics(definition).check()
    return errors


def _embedded_schemas(definition: Mapping[str, Any]) -> list[DefinitionError]:
    found = [(pointer("form", "schema"), definition["form"]["schema"])]
    for i, transition in enumerate(definition["workflow"]["transitions"]):
        if "input" in transition:
            found.append((pointer("workflow", "transitions", i, "input"), transition["input"]))
    errors = []
    for path, schema in found:
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            where = path + pointer(*exc.absolute_path)
            errors.append(
                DefinitionError(
                    where,
                    _("This is not a valid JSON Schema 2020-12: %(problem)s")
                    % {"problem": exc.message},
                )
            )
    return errors


class _Semantics:
    """The checks that need the whole document. Assumes it passed the meta-schema."""

    def __init__(self, definition: Mapping[str, Any]) -> None:
        self.d = definition
        self.errors: list[DefinitionError] = []
        self.form_fields: set[str] = set(definition["form"]["schema"]["properties"])
        self.workflow = definition["workflow"]
        self.states: dict[str, Any] = self.workflow["states"]
        self.transitions: list[dict[str, Any]] = self.workflow["transitions"]
        self.input_fields: dict[str, list[str]] = {}  # field → transitions that enter it
        for t in self.transitions:
            for name in t.get("input", {}).get("properties", {}):
                self.input_fields.setdefault(name, []).append(t["id"])
        self.targets = [c["target"] for c in definition.get("calculations", [])]

    def error(self, path: str, message: str) -> None:
        self.errors.append(DefinitionError(path, message))

    def check(self) -> list[DefinitionError]:
        self._form()
        states_ok = self._states()
        self._transitions()
        if states_ok:
            self._graph()
            self._fields_of_transitions()
        self._calculations()
        self._codes()
        self._notifications()
        self._fees()
        self._evidence()
        return self.errors

    # --- form -------------------------------------------------------------------------------

    def _form(self) -> None:
        schema = self.d["form"]["schema"]
        for i, name in enumerate(schema.get("required", [])):
            if name not in self.form_fields:
                self.error(
                    pointer("form", "schema", "required", i),
                    _("“%(field)s” is required but the form has no such field.") % {"field": name},
                )
        ui = self.d["form"]["ui"]
        placed: dict[str, str] = {}
        step_ids: set[str] = set()
        for i, step in enumerate(ui["steps"]):
            if step["id"] in step_ids:
                self.error(
                    pointer("form", "ui", "steps", i, "id"),
                    _("Another step already has the id “%(id)s”.") % {"id": step["id"]},
                )
            step_ids.add(step["id"])
            for j, name in enumerate(step["fields"]):
                path = pointer("form", "ui", "steps", i, "fields", j)
                if name not in self.form_fields:
                    self.error(
                        path,
                        _("Step “%(step)s” lists “%(field)s”, which is not a field of the form.")
                        % {"step": step["id"], "field": name},
                    )
                elif name in placed:
                    self.error(
                        path,
                        _("“%(field)s” is already in step “%(step)s”; a field is in one step.")
                        % {"field": name, "step": placed[name]},
                    )
                else:
                    placed[name] = step["id"]
        for name in sorted(self.form_fields - set(placed)):
            self.error(
                pointer("form", "schema", "properties", name),
                _("The field “%(field)s” is in no step, so the applicant would never see it.")
                % {"field": name},
            )
        for name, hint in ui.get("fields", {}).items():
            path = pointer("form", "ui", "fields", name)
            if name not in self.form_fields:
                self.error(
                    path,
                    _("There are hints for “%(field)s”, which is not a field of the form.")
                    % {"field": name},
                )
            condition = hint.get("show_if")
            if condition is not None:
                other = condition["field"]
                if other not in self.form_fields:
                    self.error(
                        path + "/show_if/field",
                        _("The condition reads “%(field)s”, which is not a field of the form.")
                        % {"field": other},
                    )
                elif other == name:
                    self.error(
                        path + "/show_if/field",
                        _("A field cannot be shown on a condition on itself."),
                    )

    # --- workflow ---------------------------------------------------------------------------

    def _states(self) -> bool:
        ok = True
        initial = self.workflow["initial"]
        if initial not in self.states:
            ok = False
            self.error(
                pointer("workflow", "initial"),
                _("The initial state “%(state)s” is not among the states.") % {"state": initial},
            )
        for i, t in enumerate(self.transitions):
            ends = [
                *_sources(t, pointer("workflow", "transitions", i)),
                (pointer("workflow", "transitions", i, "to"), t["to"]),
            ]
            for path, state in ends:
                if state not in self.states:
                    ok = False
                    self.error(
                        path,
                        _("Transition “%(id)s” names the state “%(state)s”, which does not exist.")
                        % {"id": t["id"], "state": state},
                    )
        return ok

    def _transitions(self) -> None:
        seen: set[str] = set()
        roles = role_codes()
        for i, t in enumerate(self.transitions):
            path = pointer("workflow", "transitions", i)
            if t["id"] in seen:
                self.error(
                    path + "/id",
                    _("Another transition already has the id “%(id)s”.") % {"id": t["id"]},
                )
            seen.add(t["id"])
            if not t["roles"] and "timer" not in t and "auto" not in t:
                self.error(
                    path + "/roles",
                    _(
                        "Transition “%(id)s” names no role, so nobody could take it. Add a role "
                        "(or a timer or an event, so that the platform takes it)."
                    )
                    % {"id": t["id"]},
                )
            if t.get("auto") == "paid" and not self.d.get("fees"):
                self.error(
                    path + "/auto",
                    _("Transition “%(id)s” waits for payment, but the service has no fees.")
                    % {"id": t["id"]},
                )
            if t.get("auto") == "delivered" and not any("deliver" in o for o in self.transitions):
                self.error(
                    path + "/auto",
                    _("Transition “%(id)s” waits for a delivery, but no step delivers an act.")
                    % {"id": t["id"]},
                )
            deliver = t.get("deliver")
            if deliver is not None and deliver["document"] not in {
                d["code"] for d in self.d.get("documents", [])
            }:
                self.error(
                    path + "/deliver/document",
                    _("There is no document “%(code)s” in this definition's documents.")
                    % {"code": deliver["document"]},
                )
            for j, role in enumerate(t["roles"]):
                if role not in roles and role != APPLICANT:
                    self.error(
                        path + pointer("roles", j),
                        _("“%(role)s” is not a role. Known roles: %(known)s.")
                        % {"role": role, "known": ", ".join(sorted(roles | {APPLICANT}))},
                    )
            for j, step in enumerate(t.get("approval", {}).get("steps", [])):
                if step["role"] not in roles:
                    self.error(
                        path + pointer("approval", "steps", j, "role"),
                        _("“%(role)s” is not a role of officials. Known roles: %(known)s.")
                        % {"role": step["role"], "known": ", ".join(sorted(roles))},
                    )
                elif step["role"] not in t["roles"]:
                    self.error(
                        path + pointer("approval", "steps", j, "role"),
                        _(
                            "The approvers' role “%(role)s” must also be one of the roles of "
                            "transition “%(id)s”."
                        )
                        % {"role": step["role"], "id": t["id"]},
                    )
            self._act(t, path)
            for where, state in _sources(t, path):
                if state in self.states and self.states[state].get("final"):
                    self.error(
                        where,
                        _("Transition “%(id)s” leaves “%(state)s”, which is a final state.")
                        % {"id": t["id"], "state": state},
                    )
            inputs = t.get("input", {}).get("properties", {})
            for name in t.get("ui", {}).get("fields", {}):
                if name not in inputs:
                    self.error(
                        path + pointer("ui", "fields", name),
                        _("Transition “%(id)s” has no input field “%(field)s”.")
                        % {"id": t["id"], "field": name},
                    )
            for name in inputs:
                if name in self.form_fields:
                    self.error(
                        path + pointer("input", "properties", name),
                        _("“%(field)s” is already a form field; give the input another name.")
                        % {"field": name},
                    )

    def _act(self, t: Mapping[str, Any], path: str) -> None:
        """A step that makes an act names a document of the definition; one that signs is
        taken by an official (a person signs; the platform only seals)."""
        act = t.get("document")
        if act is None:
            return
        codes = {d["code"] for d in self.d.get("documents", [])}
        if act["code"] not in codes:
            self.error(
                path + "/document/code",
                _("There is no document “%(code)s” in this definition's documents.")
                % {"code": act["code"]},
            )
        if act["action"] == "sign" and (
            "timer" in t or "auto" in t or set(t["roles"]) <= {APPLICANT}
        ):
            self.error(
                path + "/document/action",
                _(
                    "Only an official signs: a step taken by the applicant or by a timer can "
                    "only seal (action “seal”)."
                ),
            )

    def _graph(self) -> None:
        reachable = self._reachable()
        outgoing = {state for t in self.transitions for _path, state in _sources(t, "")}
        for name, state in self.states.items():
            path = pointer("workflow", "states", name)
            if name not in reachable:
                self.error(
                    path,
                    _("No sequence of transitions leads from “%(initial)s” to “%(state)s”.")
                    % {"initial": self.workflow["initial"], "state": name},
                )
            if not state.get("final") and name not in outgoing:
                self.error(
                    path,
                    _(
                        "“%(state)s” is not final but no transition leaves it: a case would "
                        "stay there forever. Add a transition or mark the state final."
                    )
                    % {"state": name},
                )
        if not any(self.states[s].get("final") for s in reachable):
            self.error(
                pointer("workflow", "states"),
                _("No final state can be reached, so no case could ever be closed."),
            )

    def _reachable(self) -> set[str]:
        seen = {self.workflow["initial"]}
        queue = deque(seen)
        while queue:
            state = queue.popleft()
            for t in self.transitions:
                if state in _from(t) and t["to"] not in seen:
                    seen.add(t["to"])
                    queue.append(t["to"])
        return seen

    def _available(self) -> dict[str, set[str]]:
        """Fields that surely have been entered when a case is in each state: the form, plus
        the input of the transitions on *every* way into the state (a forward "must" analysis,
        iterated to its greatest fixpoint)."""
        every = self.form_fields | set(self.input_fields)
        available = {name: set(every) for name in self.states}
        available[self.workflow["initial"]] = set(self.form_fields)
        changed = True
        while changed:
            changed = False
            for name in self.states:
                if name == self.workflow["initial"]:
                    continue
                incoming = [t for t in self.transitions if t["to"] == name]
                if not incoming:
                    continue
                new = set.intersection(
                    *(
                        available[source] | set(t.get("input", {}).get("properties", {}))
                        for t in incoming
                        for source in _from(t)
                    )
                )
                if new != available[name]:
                    available[name] = new
                    changed = True
        return available

    def _fields_of_transitions(self) -> None:
        available = self._available()
        computed = set(self.targets)
        known = self.form_fields | set(self.input_fields) | computed
        for i, t in enumerate(self.transitions):
            path = pointer("workflow", "transitions", i)
            own = set(t.get("input", {}).get("properties", {}))
            reads = [
                (path + pointer("requires_fields", j), name)
                for j, name in enumerate(t.get("requires_fields", []))
            ]
            if "guard" in t:
                reads.append((path + "/guard/field", t["guard"]["field"]))
            for where, name in reads:
                if name not in known:
                    self.error(where, self._unknown_field(name))
                    continue
                for source in _from(t):
                    if name not in available[source] | own | computed:
                        self.error(
                            where,
                            _(
                                "“%(field)s” is entered only by %(by)s, which does not come "
                                "before every way into “%(state)s”."
                            )
                            % {
                                "field": name,
                                "by": _quoted(self.input_fields[name]),
                                "state": source,
                            },
                        )

    def _unknown_field(self, name: str) -> str:
        return _("“%(field)s” is neither a field of the form nor entered by any transition.") % {
            "field": name
        }

    def _calculations(self) -> None:
        known = self.form_fields | set(self.input_fields)
        for i, calculation in enumerate(self.d.get("calculations", [])):
            path = pointer("calculations", i)
            target = calculation["target"]
            if target in known:
                self.error(
                    path + "/target",
                    _("“%(field)s” is entered by a person; a calculation cannot overwrite it.")
                    % {"field": target},
                )
            if target in self.targets[:i]:
                self.error(
                    path + "/target",
                    _("“%(field)s” is already calculated above.") % {"field": target},
                )
            try:
                used = formulas.names(calculation["formula"])
            except formulas.FormulaError as exc:
                self.error(
                    path + "/formula",
                    _("The formula is not safe arithmetic: %(problem)s.") % {"problem": exc},
                )
                continue
            for name in sorted(used - known - set(self.targets[:i])):
                self.error(path + "/formula", self._unknown_field(name))

    def _fees(self) -> None:
        known = self.form_fields | set(self.targets)
        for i, fee in enumerate(self.d.get("fees", [])):
            if "formula" not in fee:
                continue
            path = pointer("fees", i, "formula")
            try:
                used = formulas.names(fee["formula"])
            except formulas.FormulaError as exc:
                self.error(
                    path, _("The formula is not safe arithmetic: %(problem)s.") % {"problem": exc}
                )
                continue
            for name in sorted(used - known):
                self.error(path, self._unknown_field(name))

    def _codes(self) -> None:
        for section in ("fees", "evidence", "documents"):
            seen: set[str] = set()
            for i, item in enumerate(self.d.get(section, [])):
                if item["code"] in seen:
                    self.error(
                        pointer(section, i, "code"),
                        _("Another entry already has the code “%(code)s”.")
                        % {"code": item["code"]},
                    )
                seen.add(item["code"])

    def _evidence(self) -> None:
        """Evidence from a register: the query's inputs are fields of the form, the field by
        which the applicant chooses to bring it is a tick box, and a step that waits for the
        evidence has some to wait for."""
        properties = self.d["form"]["schema"]["properties"]
        asked = False
        for i, item in enumerate(self.d.get("evidence", [])):
            path = pointer("evidence", i)
            inputs = item.get("inputs", {})
            asked = asked or bool(item.get("register_query"))
            if inputs and not item.get("register_query"):
                self.error(
                    path + "/inputs",
                    _("The inputs are for a register query: name it in “register_query”."),
                )
            for name, field in inputs.items():
                if field not in self.form_fields:
                    self.error(
                        path + pointer("inputs", name),
                        _(
                            "The query's input “%(input)s” takes “%(field)s”, which is not a "
                            "field of the form."
                        )
                        % {"input": name, "field": field},
                    )
            bring = item.get("bring_field")
            if bring is None:
                continue
            if not item.get("applicant_may_bring"):
                self.error(
                    path + "/bring_field",
                    _(
                        "The applicant may not bring this evidence, so there is nothing to "
                        "choose: set “applicant_may_bring” or remove “bring_field”."
                    ),
                )
            field = properties.get(bring)
            if field is None:
                self.error(
                    path + "/bring_field",
                    _("“%(field)s” is not a field of the form.") % {"field": bring},
                )
            elif not isinstance(field, Mapping) or field.get("type") != "boolean":
                self.error(
                    path + "/bring_field",
                    _(
                        "“%(field)s” must be a yes/no field (type boolean): the applicant "
                        "ticks it to bring the evidence."
                    )
                    % {"field": bring},
                )
        if asked:
            return
        for i, t in enumerate(self.transitions):
            if t.get("requires_evidence"):
                self.error(
                    pointer("workflow", "transitions", i, "requires_evidence"),
                    _(
                        "Transition “%(id)s” waits for evidence from registers, but no "
                        "evidence names a register query."
                    )
                    % {"id": t["id"]},
                )

    def _notifications(self) -> None:
        transition_ids = {t["id"] for t in self.transitions}
        roles = role_codes() | {APPLICANT}
        for i, notification in enumerate(self.d.get("notifications", [])):
            path = pointer("notifications", i)
            kind, _sep, name = notification["on"].partition(":")
            names = transition_ids if kind == "transition" else set(self.states)
            if name not in names:
                self.error(
                    path + "/on",
                    _("There is no %(kind)s “%(name)s”.")
                    % {
                        "kind": _("transition") if kind == "transition" else _("state"),
                        "name": name,
                    },
                )
            if notification["to"] not in roles:
                self.error(
                    path + "/to",
                    _("“%(role)s” is not a role. Known roles: %(known)s.")
                    % {"role": notification["to"], "known": ", ".join(sorted(roles))},
                )


def _from(transition: Mapping[str, Any]) -> list[str]:
    source = transition["from"]
    return [source] if isinstance(source, str) else list(source)


def _sources(transition: Mapping[str, Any], path: str) -> list[tuple[str, str]]:
    """(JSON Pointer, state) of each state the transition leaves."""
    source = transition["from"]
    if isinstance(source, str):
        return [(path + "/from", source)]
    return [(path + pointer("from", i), state) for i, state in enumerate(source)]


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(f"“{n}”" for n in names)


def revision(definition: object) -> str:
    """A short fingerprint of a definition's content: an editor sends back the revision it
    edited, so that a change made meanwhile by someone else is not silently overwritten."""
    canonical = json.dumps(definition, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def check(definition: object) -> None:
    """Raise :class:`InvalidDefinition` with every problem, if there is any."""
    errors = validate(definition)
    if errors:
        raise InvalidDefinition(errors)
