"""The forms of the workflow steps someone may take on a case page — the official's and the
applicant's alike: the transition's ``input`` schema rendered with its ``ui`` hints (labels and
help in each language), an opinion when the step records one, and the state of its approval
line. Reading a posted step form back is here too, so both pages validate in the same way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from salter.cases import listeners, workflow
from salter.cases.models import Approval, Case, CaseEvent
from salter.catalog.forms import ServiceForm


@dataclasses.dataclass(frozen=True)
class LineStep:
    """One step of an approval line as shown on the case page."""

    label: str
    done: bool
    by: str = ""
    mark: str = ""  # "deputy for …" / "by delegation of …", empty when in own role
    at: Any = None
    opinion: str = ""
    waiting: bool = False  # may be recorded now


@dataclasses.dataclass(frozen=True)
class StepForm:
    id: str
    label: str
    fields: tuple[Any, ...]
    opinion: bool
    opinion_value: str
    opinion_error: str
    error: str = ""
    line: tuple[LineStep, ...] = ()
    parallel: bool = False
    # Taking this step signs an act: the form asks for a fresh second factor.
    signs: bool = False
    second_factor_error: str = ""
    document_label: str = ""

    @property
    def opinion_id(self) -> str:
        return f"{self.id}-opinion"

    @property
    def code_id(self) -> str:
        return f"{self.id}-second-factor"


def input_form(transition: Mapping[str, Any]) -> ServiceForm | None:
    """The transition's ``input`` schema as a one-step :class:`ServiceForm`. Labels and help
    come from the transition's ``ui.fields`` (in the page's language); a field without a hint
    falls back to the schema's ``title``, then to its name."""
    schema = transition.get("input")
    if not schema or not schema.get("properties"):
        return None
    names = list(schema["properties"])
    given: Mapping[str, Any] = transition.get("ui", {}).get("fields", {})
    hints = {}
    for name in names:
        hint = dict(given.get(name, {}))
        if "label" not in hint:
            hint["label"] = (
                schema["properties"][name].get("title") or name.replace("_", " ").capitalize()
            )
        hints[name] = hint
    definition = {
        "form": {
            "schema": schema,
            "ui": {
                "steps": [{"id": transition["id"], "title": "", "fields": names}],
                "fields": hints,
            },
        }
    }
    return ServiceForm(definition)


def _prefixed(field: Any, prefix: str) -> Any:
    """A field with ids unique on a page that shows several steps' forms."""
    choices = tuple(dataclasses.replace(c, id=f"{prefix}-{c.id}") for c in field.choices)
    return dataclasses.replace(field, id=f"{prefix}-{field.id}", choices=choices)


def approval_line(case: Case, transition: Mapping[str, Any]) -> tuple[LineStep, ...]:
    """The approval line of ``transition`` in the current visit of the case's state: who
    approved each step, when, in which capacity, and which steps may be recorded now."""
    if "approval" not in transition:
        return ()
    steps = transition["approval"]["steps"]
    recorded = {
        a.step: a
        for a in Approval.objects.filter(
            case=case, state_version=case.state_version, transition_id=transition["id"]
        ).select_related("actor", "principal")
    }
    pending = set(workflow.pending_steps(transition, set(recorded)))
    line = []
    for index, step in enumerate(steps):
        label = workflow.text(step["label"])
        found = recorded.get(index)
        if found is None:
            line.append(LineStep(label, done=False, waiting=index in pending))
            continue
        line.append(
            LineStep(
                label,
                done=True,
                by=found.actor.full_name,
                mark=mark_text(found.mark, found.principal.full_name if found.principal else ""),
                at=timezone.localtime(found.at),
                opinion=found.opinion,
            )
        )
    return tuple(line)


def mark_text(mark: str, principal: str) -> str:
    if not principal or mark == Approval.Mark.OWN:
        return ""
    if mark == Approval.Mark.DEPUTY:
        return _("deputy for %(name)s") % {"name": principal}
    return _("by delegation of %(name)s") % {"name": principal}


def step_forms(
    case: Case,
    may: Callable[[Mapping[str, Any]], bool],
    failed: str = "",
    errors: Mapping[str, str] | None = None,
    raw: Mapping[str, Any] | None = None,
) -> list[StepForm]:
    """A form for every transition leaving the case's state that ``may`` allows; the one that
    ``failed`` shows what was typed and the messages."""
    if case.closed_at is not None:
        return []
    errors = errors or {}
    forms = []
    for transition in workflow.leaving(case.service_version.definition, case.state):
        if not may(transition):
            continue
        tid = transition["id"]
        mine = tid == failed
        form = input_form(transition)
        fields: tuple[Any, ...] = ()
        if form is not None:
            step = form.render(1, {}, errors if mine else None, raw if mine else None)
            fields = tuple(_prefixed(f, tid) for f in step.fields)
        line = approval_line(case, transition)
        forms.append(
            StepForm(
                id=tid,
                label=workflow.text(transition.get("label")) or tid,
                fields=fields,
                opinion=bool(transition.get("opinion")),
                opinion_value=str((raw or {}).get("opinion", "")) if mine else "",
                opinion_error=errors.get("opinion", "") if mine else "",
                error=errors.get("__all__", "") if mine else "",
                line=line,
                parallel=transition.get("approval", {}).get("mode") == "parallel",
                signs=_signs_now(transition, line),
                second_factor_error=errors.get("second_factor", "") if mine else "",
                document_label=_document_label(case, transition),
            )
        )
    return forms


def _signs_now(transition: Mapping[str, Any], line: tuple[LineStep, ...]) -> bool:
    """Whether taking the step now signs an act: it signs, and no approval line is left but
    the one step this approval would record (the reviewers before the approver do not sign)."""
    act = transition.get("document")
    if not isinstance(act, Mapping) or act.get("action") != "sign":
        return False
    return sum(1 for s in line if not s.done) <= 1


def _document_label(case: Case, transition: Mapping[str, Any]) -> str:
    act = transition.get("document")
    if not isinstance(act, Mapping):
        return ""
    for entry in case.service_version.definition.get("documents", []):
        if entry.get("code") == act.get("code"):
            return workflow.text(entry.get("label"))
    return ""


@dataclasses.dataclass(frozen=True)
class Posted:
    inputs: dict[str, Any]
    raw: dict[str, Any]
    errors: dict[str, str]


def read(transition: Mapping[str, Any], post: QueryDict) -> Posted:
    """The input and opinion of a posted step form, checked against the input schema."""
    opinion = post.get("opinion", "")
    raw: dict[str, Any] = {"opinion": opinion}
    form = input_form(transition)
    if form is None:
        return Posted({}, raw, {})
    cleaned = form.clean_step(1, post, {})
    raw.update(cleaned.raw)
    return Posted(cleaned.data if cleaned.ok else {}, raw, {} if cleaned.ok else cleaned.errors)


def messages_of(exc: ValidationError) -> dict[str, str]:
    """One message per field of a service's ``ValidationError``."""
    if hasattr(exc, "error_dict"):
        return {name: str(errors[0].messages[0]) for name, errors in exc.error_dict.items()}
    return {"__all__": exc.messages[0]}


def act_text(event: CaseEvent) -> str:
    """What a timeline entry of an act names: the document and its registry number (or, when
    the case was carried into a new year, its old and new numbers)."""
    if event.kind == CaseEvent.Kind.CARRIED_OVER:
        return f"{event.payload.get('from', '')} → {event.payload.get('to', '')}"
    if event.kind == CaseEvent.Kind.LETTER:
        return str(event.payload.get("registry_number", ""))
    described = listeners.text_of(event)  # an app's own kind: a delivery step, evidence
    if described is not None:
        return described
    if event.kind not in (CaseEvent.Kind.DOCUMENT, CaseEvent.Kind.DRAFTED):
        return ""
    label = workflow.text(event.payload.get("label")) or str(event.payload.get("code", ""))
    return f"{label}, {event.payload.get('registry_number', '')}"
