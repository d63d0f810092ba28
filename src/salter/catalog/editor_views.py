"""The service generator in the browser, under /official/catalog/ (behind the officials'
second-factor gate): an authority's services and their versions, a new service, the editor of
a draft, publishing, import and export, the workflow as SVG and as BPMN.

Only a platform administrator or an ``authority_admin`` of the service's authority sees these
pages; to anyone else a service does not exist (404). Server-rendered and usable without
JavaScript: every edit is a small POST form that changes one item of the definition and
redirects back to it (post/redirect/get); a form with mistakes is shown again with them (400).

Drafts are saved even when the definition is not valid yet (``update_draft`` does not validate;
it is validated when published): the editor shows every problem of
:func:`salter.catalog.definitions.validate` beside the input it concerns, with a summary at the
top linking to each. A change is refused if someone else saved the draft meanwhile (the forms
carry the revision they were made from).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from salter.authorities.models import Authority
from salter.catalog import bpmn, definitions, diagram, editor, queries, services
from salter.catalog import editor_forms as ef
from salter.catalog.forms import text
from salter.catalog.models import Service, ServiceVersion
from salter.core import params
from salter.core.context import Actor
from salter.identity import loa
from salter.identity.models import User
from salter.identity.permissions import require_platform_admin

# --- who may ------------------------------------------------------------------------------------


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _allowed(request: HttpRequest, authority: Authority) -> None:
    try:
        require_platform_admin(Actor.from_request(request), or_authority_admin_of=authority)
    except PermissionDenied:
        raise Http404 from None  # a service of another authority does not exist for you


def _service(request: HttpRequest, service_id: int) -> Service:
    service = get_object_or_404(Service.objects.select_related("authority"), pk=service_id)
    _allowed(request, service.authority)
    return service


def _version(request: HttpRequest, service_id: int, number: int) -> ServiceVersion:
    version = get_object_or_404(
        ServiceVersion.objects.select_related("service__authority"),
        service_id=service_id,
        number=number,
    )
    _allowed(request, version.service.authority)
    return version


def _version_url(version: ServiceVersion, anchor: str = "") -> str:
    url = reverse(
        "official:catalog_version",
        kwargs={"service_id": version.service_id, "number": version.number},
    )
    return f"{url}#{anchor}" if anchor else url


# --- the list of services, a new service ---------------------------------------------------------


@loa.require_level(loa.TWO_FACTOR)
@require_GET
def service_list(request: HttpRequest) -> HttpResponse:
    authorities = queries.administered(_user(request))
    if not authorities.exists():
        raise Http404
    listed = queries.with_services(authorities)
    return render(request, "catalog/editor/service_list.html", {"authorities": listed})


@loa.require_level(loa.TWO_FACTOR)
@require_http_methods(["GET", "POST"])
def service_create(request: HttpRequest) -> HttpResponse:
    authorities = queries.administered(_user(request))
    if not authorities.exists():
        raise Http404
    form = ef.ServiceCreateForm(authorities, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        authority = data.pop("authority")
        version = services.create_service_with_draft(Actor.from_request(request), authority, **data)
        messages.success(request, _("The service is created with a first draft to edit."))
        return redirect(_version_url(version))
    status = 400 if form.is_bound else 200
    return render(
        request,
        "catalog/editor/service_form.html",
        {"form": form, "inputs": _inputs(form)},
        status=status,
    )


# --- one service: its versions, import -----------------------------------------------------------


def _render_service(
    request: HttpRequest, service: Service, form: ef.ImportForm, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "catalog/editor/service.html",
        {
            "service": service,
            "versions": queries.versions_of(service),
            "import_form": form,
            "import_inputs": _inputs(form),
        },
        status=status,
    )


@loa.require_level(loa.TWO_FACTOR)
@require_GET
def service_detail(request: HttpRequest, service_id: int) -> HttpResponse:
    service = _service(request, service_id)
    return _render_service(request, service, ef.ImportForm())


@loa.require_level(loa.TWO_FACTOR)
@require_POST
def service_import(request: HttpRequest, service_id: int) -> HttpResponse:
    service = _service(request, service_id)
    form = ef.ImportForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            version = services.import_definition(
                Actor.from_request(request), service, form.cleaned_data["file"]
            )
        except services.InvalidDefinition as exc:
            for problem in exc.errors:
                form.add_error("file", problem.message)
        else:
            messages.success(
                request,
                _("The file is imported as draft version %(number)s.") % {"number": version.number},
            )
            return redirect(_version_url(version))
    return _render_service(request, service, form, status=400)


# --- one version: the editor -------------------------------------------------------------------


@dataclass
class Input:
    """One input of an item's form, with every message about it (the form's own and the
    definition's problems placed here)."""

    bound: forms.BoundField
    messages: list[str]
    kind: str  # "group" (a fieldset of boxes), "checkbox" (one box) or "plain"

    @property
    def id(self) -> str:
        return str(self.bound.auto_id)

    @property
    def error_id(self) -> str:
        return f"{self.id}_error"

    @property
    def help_id(self) -> str:
        return f"{self.id}_helptext" if self.bound.help_text else ""


@dataclass
class Item:
    """One editable thing of the definition (a field, a step, a state …) with its form."""

    anchor: str
    section: str
    key: str
    title: str
    form: forms.Form
    summary: str = ""
    actions: list[tuple[str, str]] = field(default_factory=list)
    inputs: list[Input] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    is_new: bool = False

    @property
    def has_problems(self) -> bool:
        return bool(self.messages) or any(i.messages for i in self.inputs)


@dataclass
class Problem:
    message: str
    href: str
    where: str


class _Page:
    """Everything the editor page shows of a version, with its problems placed."""

    def __init__(
        self,
        version: ServiceVersion,
        bound: forms.Form | None = None,
        bound_anchor: str = "",
    ) -> None:
        self.version = version
        self.d: Any = version.definition
        self.bound = bound
        self.bound_anchor = bound_anchor
        self.language = translation.get_language() or "sr"
        self.problems = definitions.validate(self.d)
        self.items: dict[str, list[Item]] = defaultdict(list)
        self.summary: list[Problem] = []

    def form(self, anchor: str, make: Callable[..., forms.Form], initial: dict[str, Any]) -> Any:
        if self.bound is not None and anchor == self.bound_anchor:
            return self.bound
        return make(initial=initial, prefix=anchor, auto_id="id_%s")

    def add(self, group: str, item: Item) -> None:
        self.items[group].append(item)

    def build(self) -> None:
        d = self.d
        step_titles = [text(s.get("title"), self.language) or str(s.get("id")) for s in
                       editor.steps(d)]  # fmt: skip
        for name in editor.form_fields(d):
            anchor = f"field-{name}"
            initial: dict[str, Any] = editor.field_initial(d, name)
            in_step = editor.step_of(d, name)
            hint = editor.obj(d, "form", "ui", "fields", name)
            self.add("fields", Item(
                anchor, "field", name,
                f"{text(hint.get('label'), self.language) or name} ({name})",
                self.form(anchor, lambda n=name, **kw: ef.FieldForm(d, n, **kw), initial),
                summary=", ".join(x for x in [
                    str(dict(ef.TYPE_CHOICES).get(initial["type"], _("other"))),
                    _("required") if initial["required"] else _("optional"),
                    step_titles[in_step] if in_step is not None else _("in no step"),
                ] if x),
                actions=[("up", _("Move up")), ("down", _("Move down")), ("remove", _("Remove"))],
            ))  # fmt: skip
        if editor.steps(d):
            new_field = self._new(
                "field",
                lambda **kw: ef.FieldForm(d, None, **kw),
                {"type": "string", "step": "0"},
                _("Add a field"),
            )
            self.add("fields", new_field)
        for i, step in enumerate(editor.steps(d)):
            anchor = f"step-{i}"
            initial = editor.step_initial(step)
            self.add("steps", Item(
                anchor, "step", str(i), f"{i + 1}. {step_titles[i]}",
                self.form(anchor, lambda n=i, **kw: ef.StepForm(d, n, **kw), initial),
                summary=_("%(count)d fields") % {"count": len(editor.items(step, "fields"))},
                actions=[("up", _("Move up")), ("down", _("Move down")), ("remove", _("Remove"))],
            ))  # fmt: skip
        self.add("steps", self._new("step", lambda **kw: ef.StepForm(d, None, **kw), {},
                                    _("Add a step")))  # fmt: skip
        if editor.states(d):
            initial_state = editor.obj(d, "workflow").get("initial")
            self.add("initial", Item(
                "initial", "initial", "", _("The initial state"),
                self.form("initial", lambda **kw: ef.InitialForm(d, None, **kw),
                          {"state": initial_state}),
            ))  # fmt: skip
        for name, state in editor.states(d).items():
            anchor = f"state-{name}"
            state = state if isinstance(state, dict) else {}
            initial = editor.state_initial(name, state)
            flags = [
                _("final") if initial["final"] else "",
                _("waits for the applicant") if initial["waits_for_applicant"] else "",
            ]
            self.add("states", Item(
                anchor, "state", name,
                f"{text(state.get('label'), self.language) or name} ({name})",
                self.form(anchor, lambda n=name, **kw: ef.StateForm(d, n, **kw), initial),
                summary=", ".join(f for f in flags if f),
                actions=[("remove", _("Remove"))],
            ))  # fmt: skip
        self.add("states", self._new("state", lambda **kw: ef.StateForm(d, None, **kw), {},
                                     _("Add a state")))  # fmt: skip
        for i, t in enumerate(editor.transitions(d)):
            anchor = f"transition-{i}"
            initial = editor.transition_initial(t)
            self.add("transitions", Item(
                anchor, "transition", str(i),
                f"{text(t.get('label'), self.language) or t.get('id', '')} ({t.get('id', '')})",
                self.form(anchor, lambda n=i, **kw: ef.TransitionForm(d, n, **kw), initial),
                summary=f"{', '.join(editor.sources(t))} → {t.get('to', '')}",
                actions=[("remove", _("Remove"))],
            ))  # fmt: skip
        if editor.states(d):
            self.add("transitions", self._new(
                "transition", lambda **kw: ef.TransitionForm(d, None, **kw), {},
                _("Add a transition")))  # fmt: skip
        self.add("deadline", Item(
            "deadline", "deadline", "", _("The legal deadline"),
            self.form("deadline", lambda **kw: ef.DeadlineForm(d, None, **kw),
                      editor.deadline_initial(d)),
        ))  # fmt: skip
        for i, fee in enumerate(editor.fees(d)):
            anchor = f"fee-{i}"
            initial = editor.fee_initial(fee)
            self.add("fees", Item(
                anchor, "fee", str(i), f"{text(fee.get('label'), self.language)} "
                f"({fee.get('amount', '')} RSD)",
                self.form(anchor, lambda n=i, **kw: ef.FeeForm(d, n, **kw), initial),
                actions=[("remove", _("Remove"))],
            ))  # fmt: skip
        self.add("fees", self._new("fee", lambda **kw: ef.FeeForm(d, None, **kw), {},
                                   _("Add a fee")))  # fmt: skip
        raw = json.dumps(d, ensure_ascii=False, indent=2)
        self.add("raw", Item("raw", "raw", "", _("The definition as JSON"),
                             self.form("raw", ef.RawForm, {"definition": raw})))  # fmt: skip
        self._place_problems()

    def _new(self, section: str, make: Callable[..., forms.Form], initial: dict[str, Any],
             title: str) -> Item:  # fmt: skip
        anchor = f"new-{section}"
        return Item(anchor, section, "", title, self.form(anchor, make, initial), is_new=True)

    def _place_problems(self) -> None:
        every = {item.anchor: item for group in self.items.values() for item in group}
        placed: dict[tuple[str, str], list[str]] = defaultdict(list)
        for place, problem in editor.problems_by_place(self.problems, self.d, set(every)):
            item = every[place.item]
            if place.input and place.input in item.form.fields:
                placed[(place.item, place.input)].append(problem.message)
            else:
                item.messages.append(problem.message)
        for item in every.values():
            if item.messages:
                self.summary += [Problem(m, f"#{item.anchor}", item.title) for m in item.messages]
            for bound in item.form:
                notes = [str(e) for e in bound.errors] + placed[(item.anchor, bound.name)]
                item.inputs.append(_input(bound, notes))
                self.summary += [
                    Problem(m, f"#{bound.auto_id}", f"{item.title} — {bound.label}")
                    for m in placed[(item.anchor, bound.name)]
                ]


def _input(bound: forms.BoundField, notes: list[str]) -> Input:
    widget = bound.field.widget
    kind = (
        "group"
        if isinstance(widget, forms.CheckboxSelectMultiple)
        else "checkbox"
        if isinstance(widget, forms.CheckboxInput)
        else "plain"
    )
    result = Input(bound, notes, kind)
    described = [result.error_id] if notes else []
    if result.help_id:
        described.append(result.help_id)
    if kind != "group":
        if described:
            widget.attrs["aria-describedby"] = " ".join(described)
        if notes:
            widget.attrs["aria-invalid"] = "true"
    return result


def _inputs(form: forms.Form) -> list[Input]:
    return [_input(bound, [str(e) for e in bound.errors]) for bound in form]


def _render_editor(
    request: HttpRequest,
    version: ServiceVersion,
    *,
    bound: forms.Form | None = None,
    anchor: str = "",
    status: int = 200,
) -> HttpResponse:
    page = _Page(version, bound, anchor)
    editable = version.status == ServiceVersion.Status.DRAFT
    if editable:
        page.build()
    service = version.service
    kwargs = {"service_id": service.pk, "number": version.number}
    return render(
        request,
        "catalog/editor/version.html",
        {
            "service": service,
            "version": version,
            "editable": editable,
            "page": page,
            "items": page.items,
            "problems": page.problems,
            "summary": page.summary,
            "revision": definitions.revision(version.definition),
            "diagram": _inline_svg(version.definition),
            "definition_json": queries.export_definition(version),
            "edit_url": reverse("official:catalog_edit", kwargs=kwargs),
            "preview_url": reverse("official:catalog_preview", kwargs=kwargs),
            "diagram_url": reverse("official:catalog_diagram", kwargs=kwargs),
            "bpmn_url": reverse("official:catalog_bpmn", kwargs=kwargs),
            "export_url": reverse("official:catalog_export", kwargs=kwargs),
        },
        status=status,
    )


def _inline_svg(definition: Any) -> SafeString:
    # Every text in the SVG is escaped by ElementTree (salter.catalog.diagram).
    return mark_safe(diagram.svg(definition, id_prefix="workflow"))  # noqa: S308


@loa.require_level(loa.TWO_FACTOR)
@require_GET
def version_detail(request: HttpRequest, service_id: int, number: int) -> HttpResponse:
    return _render_editor(request, _version(request, service_id, number))


# The form of each section (what an edit does to the definition: salter.catalog.editor.apply_edit).
_FORMS: dict[str, type[ef.EditorForm]] = {
    "field": ef.FieldForm,
    "step": ef.StepForm,
    "initial": ef.InitialForm,
    "state": ef.StateForm,
    "transition": ef.TransitionForm,
    "deadline": ef.DeadlineForm,
    "fee": ef.FeeForm,
}


@loa.require_level(loa.TWO_FACTOR)
@require_POST
def version_edit(request: HttpRequest, service_id: int, number: int) -> HttpResponse:
    """One edit of a draft: ``section`` and ``key`` name the item, ``action`` says what to do
    (save, remove, up, down), ``revision`` is the revision the form was made from."""
    version = _version(request, service_id, number)
    if version.status != ServiceVersion.Status.DRAFT:
        messages.error(request, _("Only a draft can be changed; create a new draft first."))
        return redirect(_version_url(version))
    section = params.text(request.POST, "section", max_length=40)
    action = params.text(request.POST, "action", max_length=20, default="save")
    revision = params.text(request.POST, "revision", max_length=100)
    if section not in {*_FORMS, "raw"} or action not in {"save", "remove", "up", "down"}:
        raise Http404
    if revision != definitions.revision(version.definition):
        messages.error(
            request,
            _("Someone else changed this draft meanwhile; your change was not saved. Look at the "
              "draft as it is now and make your change again."),
        )  # fmt: skip
        return redirect(_version_url(version))
    try:
        key = editor.item_key(
            section, params.text(request.POST, "key", max_length=200), version.definition
        )
    except editor.NoSuchItem:
        raise Http404 from None
    anchor = editor.item_anchor(section, key)
    definition = editor.edited(version.definition)
    if section == "raw":
        raw = ef.RawForm(request.POST, prefix="raw", auto_id="id_%s")
        if not raw.is_valid():
            return _render_editor(request, version, bound=raw, anchor="raw", status=400)
        definition, target = raw.cleaned_data["definition"], "raw"
    else:
        form = _FORMS[section](version.definition, key, request.POST, prefix=anchor,
                               auto_id="id_%s")  # fmt: skip
        data: Any = None
        if action == "save":
            if not form.is_valid():
                return _render_editor(request, version, bound=form, anchor=anchor, status=400)
            data = form.cleaned_data
        elif key is None:
            raise Http404
        elif refused := editor.refusal(section, action, key, version.definition):
            messages.error(request, refused)
            return redirect(_version_url(version, anchor))
        target = editor.apply_edit(section, action, key, definition, data)
    try:
        services.update_draft(
            Actor.from_request(request),
            version,
            definition,
            revision=revision,
            change=f"{section}.{action}" + (f":{key}" if key is not None else ""),
        )
    except services.VersionStateError as exc:
        messages.error(request, str(exc))
        return redirect(_version_url(version))
    messages.success(request, _("Saved."))
    return redirect(_version_url(version, target))


@loa.require_level(loa.TWO_FACTOR)
@require_POST
def version_publish(request: HttpRequest, service_id: int, number: int) -> HttpResponse:
    version = _version(request, service_id, number)
    try:
        services.publish_version(Actor.from_request(request), version)
    except services.InvalidDefinition:
        messages.error(
            request,
            _("This draft cannot be published until the problems listed below are fixed."),
        )
        return _render_editor(request, version, status=400)
    except services.VersionStateError as exc:
        messages.error(request, str(exc))
        return redirect(_version_url(version))
    messages.success(
        request,
        _("Version %(number)s is published; new applications use it.") % {"number": version.number},
    )
    return redirect(_version_url(version))


@loa.require_level(loa.TWO_FACTOR)
@require_POST
def version_new_draft(request: HttpRequest, service_id: int, number: int) -> HttpResponse:
    version = _version(request, service_id, number)
    draft = services.create_draft_version(
        Actor.from_request(request), version.service, version.definition
    )
    messages.success(
        request,
        _("Draft version %(new)s is a copy of version %(old)s.")
        % {"new": draft.number, "old": version.number},
    )
    return redirect(_version_url(draft))


def _filename(version: ServiceVersion, extension: str) -> str:
    service = version.service
    return f"{service.authority.code}-{service.code}-v{version.number}.{extension}"


@loa.require_level(loa.TWO_FACTOR)
@require_GET
def version_export(request: HttpRequest, service_id: int, number: int) -> HttpResponse:
    version = _version(request, service_id, number)
    response = HttpResponse(
        queries.export_definition(version), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename(version, "json")}"'
    return response


@loa.require_level(loa.TWO_FACTOR)
@require_GET
def version_diagram(request: HttpRequest, service_id: int, number: int) -> HttpResponse:
    version = _version(request, service_id, number)
    document = '<?xml version="1.0" encoding="UTF-8"?>\n' + diagram.svg(version.definition)
    response = HttpResponse(document, content_type="image/svg+xml; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{_filename(version, "svg")}"'
    return response


@loa.require_level(loa.TWO_FACTOR)
@require_GET
def version_bpmn(request: HttpRequest, service_id: int, number: int) -> HttpResponse:
    version = _version(request, service_id, number)
    service = version.service
    document = bpmn.bpmn(
        version.definition,
        name=service.display_name,
        target_namespace=f"urn:salter:service:{service.authority.code}:{service.code}:"
        f"v{version.number}",
    )
    response = HttpResponse(document, content_type="application/xml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(version, "bpmn")}"'
    return response
