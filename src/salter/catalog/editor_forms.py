"""The small forms of the service generator: one per item of a definition (a form field, a
step, a state, a transition, the deadline, a fee), the raw JSON box, a new service and an
imported file. They check what one edit can check (names, duplicates, numbers); whether the
whole definition holds together is :func:`salter.catalog.definitions.validate`'s business and
is shown beside the inputs after saving."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from salter.authorities.models import Authority, OrgUnit
from salter.catalog import editor
from salter.catalog.forms import WIDGETS
from salter.catalog.models import Service
from salter.identity.models import Role

APPLICANT = "applicant"
MAX_IMPORT_BYTES = 1_000_000

name_validator = RegexValidator(
    editor.NAME_RE,
    _("Use lower case letters a–z, digits and _, starting with a letter (at most 64)."),
)


def name_field(label: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=64,
        validators=[name_validator],
        help_text=_("Lower case letters a–z, digits and _, e.g. birth_date."),
    )


def text_fields(prefix: str, what: Any, *, required: bool = True) -> dict[str, forms.Field]:
    return {
        f"{prefix}_sr": forms.CharField(
            label=_("%(what)s in Serbian (Cyrillic)") % {"what": what},
            required=required,
            max_length=500,
        ),
        f"{prefix}_en": forms.CharField(
            label=_("%(what)s in English") % {"what": what}, required=required, max_length=500
        ),
    }


TYPE_CHOICES = [
    ("string", _("Text")),
    ("integer", _("Whole number")),
    ("number", _("Number")),
    ("boolean", _("Yes or no")),
    ("date", _("Date")),
    ("email", _("E-mail address")),
    ("choice", _("One of a list of options")),
]


def role_choices() -> list[tuple[str, Any]]:
    return [*Role.choices, (APPLICANT, _("Applicant"))]


class EditorForm(forms.Form):
    """A form about one item of ``definition``; ``key`` names the item (None for a new one)."""

    def __init__(self, definition: Any, key: Any = None, *args: Any, **kwargs: Any) -> None:
        self.definition = definition
        self.key = key
        super().__init__(*args, **kwargs)

    def _unique(self, value: str, taken: list[str], mine: str | None, message: Any) -> str:
        if value != mine and value in taken:
            raise forms.ValidationError(message, code="duplicate")
        return value


class FieldForm(EditorForm):
    name = name_field(_("Name"))
    type = forms.ChoiceField(label=_("Type"), choices=TYPE_CHOICES)
    required = forms.BooleanField(label=_("Required"), required=False)
    minimum = forms.DecimalField(
        label=_("Smallest number"), required=False, help_text=_("Only for numbers.")
    )
    maximum = forms.DecimalField(
        label=_("Largest number"), required=False, help_text=_("Only for numbers.")
    )
    min_length = forms.IntegerField(
        label=_("Shortest text (characters)"), required=False, min_value=0
    )
    max_length = forms.IntegerField(
        label=_("Longest text (characters)"), required=False, min_value=1
    )
    options = forms.CharField(
        label=_("Options"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Only for a list of options: one option a line."),
    )
    label_sr = forms.CharField(label=_("Label in Serbian (Cyrillic)"), max_length=500)
    label_en = forms.CharField(label=_("Label in English"), max_length=500)
    help_sr = forms.CharField(label=_("Help in Serbian (Cyrillic)"), required=False)
    help_en = forms.CharField(label=_("Help in English"), required=False)
    widget = forms.ChoiceField(
        label=_("Shown as"),
        required=False,
        choices=[("", _("Chosen from the type"))] + [(w, w) for w in sorted(WIDGETS)],
    )
    step = forms.ChoiceField(label=_("Step"))

    def __init__(self, definition: Any, key: Any = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(definition, key, *args, **kwargs)
        type_field = self.fields["type"]
        assert isinstance(type_field, forms.ChoiceField)
        current = editor.field_type(editor.obj(definition, "form", "schema", "properties").get(key))
        if key is not None and current == editor.OTHER:
            type_field.choices = [
                *TYPE_CHOICES,
                (editor.OTHER, _("Other (kept as it is; edit it in the JSON)")),
            ]
        step_field = self.fields["step"]
        assert isinstance(step_field, forms.ChoiceField)
        step_field.choices = [
            (str(i), editor.text_of(s.get("title"), "sr") or str(s.get("id", i + 1)))
            for i, s in enumerate(editor.steps(definition))
        ]

    def clean_name(self) -> str:
        return self._unique(
            self.cleaned_data["name"],
            editor.form_fields(self.definition),
            self.key,
            _("The form already has a field with this name."),
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("type") == "choice":
            options = [o.strip() for o in data.get("options", "").splitlines() if o.strip()]
            if not options:
                self.add_error("options", _("Give at least one option, one a line."))
            elif len(set(options)) != len(options):
                self.add_error("options", _("An option is listed twice."))
            data["options"] = options
        if bool(data.get("help_sr")) != bool(data.get("help_en")):
            self.add_error(
                "help_en" if data.get("help_sr") else "help_sr",
                _("Give the help in both languages, or in neither."),
            )
        low, high = data.get("minimum"), data.get("maximum")
        if low is not None and high is not None and low > high:
            self.add_error("maximum", _("The largest number is smaller than the smallest."))
        short, long = data.get("min_length"), data.get("max_length")
        if short is not None and long is not None and short > long:
            self.add_error("max_length", _("The longest text is shorter than the shortest."))
        return data


class StepForm(EditorForm):
    id = name_field(_("Step id"))
    title_sr = forms.CharField(label=_("Title in Serbian (Cyrillic)"), max_length=500)
    title_en = forms.CharField(label=_("Title in English"), max_length=500)

    def clean_id(self) -> str:
        ids = [str(s.get("id")) for s in editor.steps(self.definition)]
        mine = ids[self.key] if isinstance(self.key, int) and self.key < len(ids) else None
        return self._unique(
            self.cleaned_data["id"], ids, mine, _("Another step already has this id.")
        )


class StateForm(EditorForm):
    id = name_field(_("State id"))
    label_sr = forms.CharField(label=_("Label in Serbian (Cyrillic)"), max_length=500)
    label_en = forms.CharField(label=_("Label in English"), max_length=500)
    final = forms.BooleanField(label=_("Final: the case is closed in this state"), required=False)
    waits_for_applicant = forms.BooleanField(
        label=_("Waits for the applicant (the legal deadline is paused)"), required=False
    )

    def clean_id(self) -> str:
        return self._unique(
            self.cleaned_data["id"],
            list(editor.states(self.definition)),
            self.key,
            _("Another state already has this id."),
        )


class InitialForm(EditorForm):
    state = forms.ChoiceField(label=_("A new case starts in"))

    def __init__(self, definition: Any, key: Any = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(definition, key, *args, **kwargs)
        field = self.fields["state"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = _state_choices(definition)


def _state_choices(definition: Any, extra: list[str] | None = None) -> list[tuple[str, str]]:
    found = editor.states(definition)
    names = list(found) + [s for s in extra or [] if s not in found]
    return [
        (name, f"{editor.text_of(editor.obj(found, name).get('label'), 'sr') or name} ({name})")
        for name in names
    ]


class TransitionForm(EditorForm):
    id = name_field(_("Transition id"))
    sources = forms.MultipleChoiceField(
        label=_("From the states"), widget=forms.CheckboxSelectMultiple
    )
    target = forms.ChoiceField(label=_("To the state"))
    label_sr = forms.CharField(label=_("Label in Serbian (Cyrillic)"), max_length=500)
    label_en = forms.CharField(label=_("Label in English"), max_length=500)
    roles = forms.MultipleChoiceField(
        label=_("Who may take it"), required=False, widget=forms.CheckboxSelectMultiple
    )
    opinion = forms.BooleanField(label=_("Whoever takes it writes an opinion"), required=False)
    requires_fields = forms.MultipleChoiceField(
        label=_("Fields that must have a value"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    input = forms.CharField(
        label=_("Fields entered when it is taken"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "One a line: name, type (string, integer, number, boolean or date), optionally "
            "“required”, then optionally | the label in Serbian | the label in English. "
            "Example: actual_hours number required | Одрађени сати | Hours worked"
        ),
    )

    def __init__(self, definition: Any, key: Any = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(definition, key, *args, **kwargs)
        mine = editor.transitions(definition)
        current = mine[key] if isinstance(key, int) and key < len(mine) else {}
        named = editor.sources(current) + [str(current.get("to", ""))]
        choices = _state_choices(definition, [n for n in named if n])
        self._choices("sources", choices)
        self._choices("target", choices)
        roles = role_choices()
        known = {code for code, _label in roles}
        unknown = [r for r in editor.items(current, "roles") if isinstance(r, str)]
        self._choices("roles", roles + [(r, r) for r in unknown if r not in known])
        fields = editor.entered_fields(definition)
        needed = [f for f in editor.items(current, "requires_fields") if isinstance(f, str)]
        self._choices("requires_fields", [(f, f) for f in dict.fromkeys(fields + needed)])

    def _choices(self, name: str, choices: list[tuple[str, Any]]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = list(dict(choices).items())

    def clean_id(self) -> str:
        ids = [str(t.get("id")) for t in editor.transitions(self.definition)]
        mine = ids[self.key] if isinstance(self.key, int) and self.key < len(ids) else None
        return self._unique(
            self.cleaned_data["id"], ids, mine, _("Another transition already has this id.")
        )

    def clean_input(self) -> list[tuple[str, str, bool, str, str]]:
        found, problems = editor.parse_input(self.cleaned_data.get("input", ""))
        if problems:
            raise forms.ValidationError(problems)
        return found


class DeadlineForm(EditorForm):
    days = forms.IntegerField(
        label=_("Days to decide"),
        min_value=1,
        max_value=3650,
        help_text=_("ZUP art. 145: 30 days, 60 when an examination is needed."),
    )
    working_days = forms.BooleanField(
        label=_("Count working days only (ZUP counts calendar days)"), required=False
    )


class FeeForm(EditorForm):
    code = name_field(_("Code"))
    label_sr = forms.CharField(label=_("Label in Serbian (Cyrillic)"), max_length=500)
    label_en = forms.CharField(label=_("Label in English"), max_length=500)
    amount = forms.DecimalField(
        label=_("Amount in RSD"),
        min_value=Decimal(0),
        max_digits=14,
        decimal_places=2,
        help_text=_("For example 1200.00"),
    )

    def clean_code(self) -> str:
        codes = [str(f.get("code")) for f in editor.fees(self.definition)]
        mine = codes[self.key] if isinstance(self.key, int) and self.key < len(codes) else None
        return self._unique(
            self.cleaned_data["code"], codes, mine, _("Another fee already has this code.")
        )


class RawForm(forms.Form):
    definition = forms.CharField(
        label=_("The whole definition as JSON"),
        widget=forms.Textarea(attrs={"rows": 16, "spellcheck": "false"}),
        help_text=_(
            "For what the editor above does not cover (evidence, documents, notifications, "
            "calculations, conditions). See the reference of the format."
        ),
    )

    def clean_definition(self) -> dict[str, Any]:
        try:
            value = json.loads(self.cleaned_data["definition"])
        except ValueError as exc:
            raise forms.ValidationError(
                _("This is not valid JSON: %(problem)s"), params={"problem": str(exc)}
            ) from exc
        if not isinstance(value, dict):
            raise forms.ValidationError(_("The definition must be a JSON object."))
        return value


class UnitChoiceField(forms.ModelChoiceField):
    """A unit named with its authority: an administrator may keep several authorities."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.display_name} — {obj.authority.display_name}"


class ServiceCreateForm(forms.Form):
    authority = forms.ModelChoiceField(label=_("Authority"), queryset=Authority.objects.none())
    code = forms.CharField(
        label=_("Code"),
        max_length=50,
        validators=[name_validator],
        help_text=_("Lower case letters a–z, digits and _, e.g. parking_permit. Never changes."),
    )
    name = forms.CharField(label=_("Name in Serbian (Cyrillic)"), max_length=200)
    name_en = forms.CharField(label=_("Name in English"), max_length=200, required=False)
    description = forms.CharField(
        label=_("Description in Serbian (Cyrillic)"), required=False, widget=forms.Textarea
    )
    description_en = forms.CharField(
        label=_("Description in English"), required=False, widget=forms.Textarea
    )
    legal_basis = forms.CharField(label=_("Legal basis"), max_length=500, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=Service.Kind.choices)
    min_level_of_assurance = forms.TypedChoiceField(
        label=_("Minimum level of assurance"),
        coerce=int,
        initial=2,
        choices=[
            (1, _("1 — password")),
            (2, _("2 — two factors")),
            (3, _("3 — high (qualified certificate or eID)")),
        ],
    )
    classification_code = forms.CharField(
        label=_("Classification code"), max_length=30, required=False
    )
    unit = UnitChoiceField(
        label=_("Handling unit"),
        queryset=OrgUnit.objects.none(),
        required=False,
        empty_label=_("Any unit of the authority"),
        help_text=_(
            "The unit whose officials handle the cases: only they (and those cleared across "
            "the authority) read them. Empty: every unit of the authority."
        ),
    )

    def __init__(self, authorities: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["authority"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = authorities
        if authorities.count() == 1:
            field.initial = authorities.first()
        units = self.fields["unit"]
        assert isinstance(units, forms.ModelChoiceField)
        units.queryset = (
            OrgUnit.objects.filter(authority__in=authorities)
            .select_related("authority")
            .order_by("authority__name", "name")
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        authority, code = data.get("authority"), data.get("code")
        if authority and code and Service.objects.filter(authority=authority, code=code).exists():
            self.add_error("code", _("This authority already has a service with this code."))
        unit = data.get("unit")
        if authority and unit and unit.authority_id != authority.pk:
            self.add_error("unit", _("Choose a unit of the chosen authority."))
        return data


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Definition file (JSON)"),
        help_text=_("A file exported from Šalter, or written by hand. At most 1 MB."),
    )

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError(_("The file is larger than 1 MB."))
        content: bytes = upload.read()
        return content
