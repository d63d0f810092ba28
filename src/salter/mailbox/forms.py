"""Forms of the e-mailbox pages: a letter to an authority, consent, refusing a delivery,
recording a postal delivery. They parse and check what was typed; the services decide."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from salter.authorities.models import Authority
from salter.cases.models import Case
from salter.documents import uploads
from salter.documents.uploads import CheckedFile
from salter.mailbox.services import MAX_BODY, MAX_FILES, MAX_SUBJECT

ACCEPT = ".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg"


class AuthorityChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.display_name)


class CaseChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        service = obj.service_version.service.display_name
        return f"{obj.registry_number} — {service} ({obj.authority.display_name})"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is checked by :func:`salter.documents.uploads.read`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[CheckedFile]:
        given = [d for d in (data if isinstance(data, (list, tuple)) else [data]) if d]
        if len(given) > MAX_FILES:
            raise ValidationError(_("Attach at most %(n)s files.") % {"n": MAX_FILES})
        checked, problems = [], []
        for upload in given:
            try:
                checked.append(uploads.read(upload))
            except ValidationError as exc:
                reason = " ".join(str(m) for m in exc.messages)
                problems.append(f"{getattr(upload, 'name', '')}: {reason}")
        if problems:
            raise ValidationError(problems)
        return checked


def new_key() -> str:
    return uuid.uuid4().hex


class LetterForm(forms.Form):
    authority = AuthorityChoice(
        label=gettext_lazy("Authority"),
        queryset=Authority.objects.none(),
        empty_label=gettext_lazy("Choose the authority"),
    )
    case = CaseChoice(
        label=gettext_lazy("Your case (optional)"),
        queryset=Case.objects.none(),
        required=False,
        empty_label=gettext_lazy("Not about one of my cases: a new letter"),
        help_text=gettext_lazy(
            "A letter about one of your cases is registered under the case's number."
        ),
    )
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=MAX_SUBJECT)
    body = forms.CharField(
        label=gettext_lazy("Text"),
        required=False,
        max_length=MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    attachments = MultipleFileField(
        label=gettext_lazy("Attachments (optional)"),
        required=False,
        help_text=gettext_lazy(
            "Up to 5 files, PDF, PNG or JPEG. If the page shows an error, choose the files again."
        ),
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def __init__(self, *args: Any, user: Any, cases: list[Case], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["authority"].queryset = Authority.objects.filter(  # type: ignore[attr-defined]
            is_active=True
        ).order_by("name")
        self.fields["case"].queryset = Case.objects.filter(  # type: ignore[attr-defined]
            applicant=user, closed_at__isnull=True, pk__in=[c.pk for c in cases]
        ).select_related("authority", "service_version__service")
        # The select shows the cases already read, without asking again.
        field: Any = self.fields["case"]
        field.choices = [("", field.empty_label)] + [
            (str(c.pk), field.label_from_instance(c)) for c in cases
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        case, authority = data.get("case"), data.get("authority")
        if case is not None and authority is not None and case.authority_id != authority.pk:
            self.add_error("case", _("This case is at another authority: choose that one."))
        if (
            not (data.get("body") or "").strip()
            and not data.get("attachments")
            and "attachments" not in self.errors
        ):
            # Said with the other errors, not on the next try (the service checks it again).
            self.add_error("body", _("Write the letter or attach a document."))
        return data


class ConsentForm(forms.Form):
    authority = AuthorityChoice(
        label=gettext_lazy("From which authority"),
        queryset=Authority.objects.none(),
        required=False,
        empty_label=gettext_lazy("Every authority"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["authority"].queryset = Authority.objects.filter(  # type: ignore[attr-defined]
            is_active=True
        ).order_by("name")


class RefuseForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why do you refuse it?"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "Refusing is recorded with your reason; by law the document still counts as delivered."
        ),
    )


class PostalForm(forms.Form):
    delivered_on = forms.DateField(
        label=gettext_lazy("Delivered by post on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=gettext_lazy("The day on the return slip (povratnica)."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"delivered_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
