"""Forms of the journey pages: shape and validation only; the services do the work."""

from __future__ import annotations

from typing import Any

from django import forms

from cxplatform.models import Organization
from journeys import selectors, services
from journeys.models import Journey, Stage, Touchpoint


class JourneyForm(forms.ModelForm):
    class Meta:
        model = Journey
        fields = ["name", "persona", "description"]
        widgets = {
            "name": forms.TextInput(attrs={"autofocus": True, "placeholder": "Online purchase"}),
            "description": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {"description": "What this journey covers, where it starts and ends."}

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.org = org

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        clash = selectors.journey_qs(org=self.org).filter(name__iexact=name)
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError(services.DUPLICATE_NAME)
        return name

    def validate_constraints(self) -> None:
        # clean_name gives the duplicate-name message on its field; the database
        # constraint still guards against a concurrent twin.
        return


class JourneyCreateForm(JourneyForm):
    START_CHOICES = [
        (services.FIVE_PHASE, "The five-phase template"),
        (services.BLANK, "A blank map"),
        ("copy", "A copy of another journey"),
    ]
    start = forms.ChoiceField(
        choices=START_CHOICES,
        initial=services.FIVE_PHASE,
        widget=forms.RadioSelect,
        label="Start from",
        help_text="The template makes one stage per phase: Attraction, Entry, Engagement, "
        "Exit, Extension. A copy duplicates every stage and touchpoint.",
    )
    copy_from = forms.ModelChoiceField(
        queryset=Journey.objects.none(),
        required=False,
        label="Journey to copy",
        empty_label="Choose a journey…",
    )

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, org=org, **kwargs)
        self.fields["copy_from"].queryset = selectors.journey_qs(org=org).order_by("name")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("start") == "copy" and not data.get("copy_from"):
            self.add_error("copy_from", "Choose the journey to copy.")
        return data


class StageForm(forms.ModelForm):
    class Meta:
        model = Stage
        fields = ["name", "phase", "description"]
        widgets = {
            "name": forms.TextInput(attrs={"autofocus": True, "placeholder": "Checkout"}),
            "description": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {"phase": "Where in the customer's journey this stage sits."}


class TouchpointForm(forms.ModelForm):
    class Meta:
        model = Touchpoint
        fields = ["name", "channel", "component", "owner_team", "moment_of_truth", "description"]
        widgets = {
            "name": forms.TextInput(attrs={"autofocus": True, "placeholder": "Order confirmation"}),
            "description": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {"owner_team": "Owner team", "moment_of_truth": "Moment of truth"}
        help_texts = {
            "component": "Service is people, technology the product, design the brand.",
            "moment_of_truth": "A moment that makes or breaks the relationship.",
        }

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner_team"].queryset = selectors.team_choices(org=org)
        self.fields["owner_team"].empty_label = "No owner yet"


class TouchpointMoveForm(forms.Form):
    """Either a ``direction`` (the keyboard buttons) or a ``stage`` and ``position`` (drag
    and drop)."""

    direction = forms.ChoiceField(choices=[(d, d) for d in services.DIRECTIONS], required=False)
    stage = forms.ModelChoiceField(queryset=Stage.objects.none(), required=False)
    position = forms.IntegerField(min_value=0, required=False)

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["stage"].queryset = Stage.objects.for_org(org)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("direction") and data.get("position") is None:
            raise forms.ValidationError("Give a direction, or a position (and a stage).")
        return data


class StageMoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("left", "left"), ("right", "right")], required=False)
    position = forms.IntegerField(min_value=0, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("direction") and data.get("position") is None:
            raise forms.ValidationError("Give a direction or a position.")
        return data
