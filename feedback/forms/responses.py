"""The response feed's filters (also the export's)."""

from __future__ import annotations

from typing import Any

from django import forms

from cxplatform.models import Organization
from feedback.models import Contact, ResponseChannel, Survey
from feedback.scoring import Category
from journeys.models import Touchpoint


class ResponseFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search comments", max_length=200)
    contact = forms.ModelChoiceField(
        queryset=Contact.objects.none(), required=False, widget=forms.HiddenInput
    )
    survey = forms.ModelChoiceField(queryset=Survey.objects.none(), required=False)
    touchpoint = forms.ModelChoiceField(queryset=Touchpoint.objects.none(), required=False)
    category = forms.ChoiceField(choices=[("", "Any category"), *Category.choices], required=False)
    channel = forms.ChoiceField(
        choices=[("", "Any channel"), *ResponseChannel.choices], required=False
    )
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    show = forms.ChoiceField(
        choices=[
            ("", "Completed (counted)"),
            ("partial", "Partial (not sent yet)"),
            ("flagged", "Flagged as automated"),
            ("all", "All"),
        ],
        required=False,
        label="Show",
    )

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = Contact.objects.for_org(org)
        self.fields["survey"].queryset = Survey.objects.for_org(org).order_by("name")
        self.fields["survey"].empty_label = "Any survey"
        self.fields["touchpoint"].queryset = (
            Touchpoint.objects.for_org(org).select_related("stage").order_by("name")
        )
        self.fields["touchpoint"].empty_label = "Any touchpoint"
        for field in self.fields.values():  # small filters; the renderer adds the base class
            small = (
                "form-select-sm" if isinstance(field.widget, forms.Select) else "form-control-sm"
            )
            field.widget.attrs.setdefault("class", small)

    def filters(self) -> dict[str, Any]:
        """The selector's filters (``selectors.responses.response_list``)."""
        if not self.is_valid():
            return {"flagged": False}  # the default view: what the figures count
        data = {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}
        show = data.pop("show", "")
        if show == "":
            data["flagged"] = False  # what the figures count; the flagged have their own view
        elif show == "partial":
            data["completed"] = False
        elif show == "flagged":
            data["flagged"] = True
            data["completed"] = None
        elif show == "all":
            data["completed"] = None
        return data
