"""Forms of the survey builder."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from cxplatform.models import Organization
from feedback.models import Survey
from feedback.scoring import QuestionType
from journeys.selectors import touchpoint_choices


class SurveyForm(forms.ModelForm):
    class Meta:
        model = Survey
        fields = ["name", "status", "touchpoint", "title", "intro", "thank_you", "default_locale"]
        labels = {
            "title": "Title shown to respondents",
            "intro": "Introduction",
            "thank_you": "Thank-you message",
            "default_locale": "Language",
        }
        help_texts = {
            "touchpoint": "The journey touchpoint this survey asks about (optional).",
            "default_locale": "The language the questions are written in.",
        }
        widgets = {
            "intro": forms.Textarea(attrs={"rows": 2}),
            "thank_you": forms.Textarea(attrs={"rows": 2}),
            "default_locale": forms.Select(choices=settings.LANGUAGES),
        }

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["touchpoint"].queryset = touchpoint_choices(
            org=org, keep=self.instance.touchpoint_id if self.instance.pk else None
        )
        self.fields["touchpoint"].label_from_instance = lambda tp: (
            f"{tp.stage.journey.name} › {tp.stage.name} › {tp.name}"
        )
        self.fields["touchpoint"].empty_label = "No touchpoint"


class QuestionForm(forms.Form):
    type = forms.ChoiceField(choices=QuestionType.choices, initial=QuestionType.TEXT)
    text = forms.CharField(max_length=500, label="Question")
    help_text = forms.CharField(max_length=500, required=False, label="Hint")
    choices = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Choice questions: one option per line.",
    )
    low_label = forms.CharField(max_length=100, required=False, label="Label of the lowest score")
    high_label = forms.CharField(max_length=100, required=False, label="Label of the highest score")
    required = forms.BooleanField(required=False)
    is_primary = forms.BooleanField(
        required=False,
        label="Primary question",
        help_text="Its score is the survey's metric.",
    )

    @classmethod
    def initial_for(cls, question: Any) -> dict[str, Any]:
        return {
            "type": question.type,
            "text": question.text,
            "help_text": question.help_text,
            "choices": "\n".join(question.choices or []),
            "low_label": question.low_label,
            "high_label": question.high_label,
            "required": question.required,
            "is_primary": question.is_primary,
        }

    def data_for_service(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["choices"] = [line.strip() for line in data["choices"].splitlines() if line.strip()]
        return data


class TemplateForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[
            ("nps", "NPS"),
            ("csat", "CSAT"),
            ("ces", "CES"),
            ("enps", "eNPS"),
            ("custom", "Custom"),
        ]
    )
