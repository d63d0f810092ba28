"""Forms of the officials' payment pages. They only read what was typed: the rules (amounts,
dates, whether the file is a statement of the authority's account) are the services'."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from salter.payments.camt053 import MAX_BYTES


class ConfirmForm(forms.Form):
    amount = forms.CharField(
        label=_("Amount paid (RSD)"),
        max_length=20,
        help_text=_("With a decimal point or comma, e.g. 1500.00."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    booked_on = forms.DateField(
        label=_("Date of the payment"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter the date as day, month and year.")},
    )
    note = forms.CharField(
        label=_("What shows the payment"),
        max_length=300,
        help_text=_("E.g. “receipt of the post office no. 12345, seen at the counter”."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"booked_on": timezone.localdate()})
        super().__init__(*args, **kwargs)


class StatementForm(forms.Form):
    file = forms.FileField(
        label=_("Bank statement"),
        help_text=_("The day's statement of the fee account as ISO 20022 camt.053 (an XML file)."),
        error_messages={"required": _("Choose the statement file to import.")},
        widget=forms.ClearableFileInput(attrs={"accept": ".xml,application/xml,text/xml"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(mb)d MB: no statement is that large."),
                params={"mb": MAX_BYTES // 2**20},
            )
        return upload
