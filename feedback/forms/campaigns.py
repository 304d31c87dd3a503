"""Forms of the campaign pages: the campaign (audience, email, timing, reminders, fatigue)
and saved segments. Shape and validation only: the rules live in
``feedback.services.campaigns`` / ``audience`` and are shared with the API."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from cxplatform.models import Organization
from feedback.models import AudienceType, Campaign, Segment, Survey, SurveyStatus
from feedback.services import audience, campaigns
from feedback.services import email as email_render
from journeys import selectors as journeys_selectors

MAX_LIST_BYTES = 5 * 1024 * 1024


class AudienceFilterFields(forms.Form):
    """The filter an audience (or a segment) applies, as plain fields rather than JSON."""

    locale = forms.CharField(
        required=False, max_length=10, label="Language", help_text="e.g. en, de"
    )
    company_contains = forms.CharField(required=False, max_length=200, label="Company contains")
    email_endswith = forms.CharField(
        required=False,
        max_length=200,
        label="Email ends with",
        widget=forms.TextInput(attrs={"placeholder": "@example.com"}),
    )
    attributes = forms.CharField(
        required=False,
        label="Attributes",
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "plan=pro\nregion=emea"}),
        help_text="One <code>name=value</code> per line; every line must match.",
    )

    FILTER_KEYS = {
        "locale": "locale",
        "company_contains": "company__icontains",
        "email_endswith": "email__endswith",
    }

    @classmethod
    def initial_from(cls, spec: dict[str, Any]) -> dict[str, Any]:
        initial = {name: spec.get(key, "") for name, key in cls.FILTER_KEYS.items()}
        initial["attributes"] = "\n".join(
            f"{k}={v}" for k, v in (spec.get("attributes") or {}).items()
        )
        return initial

    def filter_spec(self, data: dict[str, Any]) -> dict[str, Any]:
        """The audience filter (``audience.validate_filter`` shape) from cleaned data."""
        spec: dict[str, Any] = {
            key: data[name].strip()
            for name, key in self.FILTER_KEYS.items()
            if data.get(name, "").strip()
        }
        attributes = {}
        for number, line in enumerate((data.get("attributes") or "").splitlines(), start=1):
            if not line.strip():
                continue
            name, sep, value = line.partition("=")
            if not sep or not name.strip():
                self.add_error("attributes", f"Line {number}: write it as name=value.")
                continue
            attributes[name.strip()] = value.strip()
        if attributes:
            spec["attributes"] = attributes
        try:
            return audience.validate_filter(spec)
        except ValidationError as exc:
            self.add_error("attributes", exc)
            return {}


class CampaignForm(AudienceFilterFields, forms.ModelForm):
    send_mode = forms.ChoiceField(
        choices=[("now", "As soon as I launch it"), ("later", "At a scheduled time")],
        widget=forms.RadioSelect,
        initial="now",
        label="When",
    )
    send_at = forms.DateTimeField(
        required=False,
        label="Send at",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    list_emails = forms.CharField(
        required=False,
        label="Email addresses",
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "ann@example.com\nbob@example.com"}),
        help_text="One per line (or separated by commas). Only existing contacts are used.",
    )
    list_file = forms.FileField(
        required=False,
        label="…or a CSV file",
        help_text="A column named <code>email</code>, or emails in the first column.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv,text/plain"}),
    )

    class Meta:
        model = Campaign
        fields = [
            "name",
            "survey",
            "touchpoint",
            "audience_type",
            "segment",
            "subject",
            "body",
            "reminder_after_days",
            "max_reminders",
            "fatigue_days",
            "link_expiry_days",
        ]
        labels = {
            "audience_type": "Who",
            "reminder_after_days": "Remind after (days)",
            "max_reminders": "At most (reminders)",
            "fatigue_days": "Skip anyone surveyed in the last (days)",
            "link_expiry_days": "Links expire after (days)",
        }
        help_texts = {
            "touchpoint": "What the customers are asked about. Empty: the survey's touchpoint.",
            "fatigue_days": "Across all campaigns and API triggers. 0 turns the rule off.",
            "max_reminders": "Reminders go only to those who have not answered. 0: none.",
            "link_expiry_days": "0: the links never expire.",
        }
        widgets = {
            "audience_type": forms.RadioSelect,
            "body": forms.Textarea(attrs={"rows": 6}),
        }

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        instance = kwargs.get("instance")
        if instance is not None and instance.pk:
            initial = kwargs.setdefault("initial", {})
            initial.update(self.initial_from(instance.audience_filter or {}))
            if instance.send_at:
                initial.setdefault("send_mode", "later")
                initial.setdefault(
                    "send_at", timezone.localtime(instance.send_at).replace(tzinfo=None)
                )
            listed = instance.listed_contacts.values_list("email", flat=True)[:2000]
            initial.setdefault("list_emails", "\n".join(listed))
        super().__init__(*args, **kwargs)
        self.org = org
        self.fields["survey"].queryset = Survey.objects.for_org(org).exclude(
            status=SurveyStatus.ARCHIVED
        )
        self.fields["survey"].label_from_instance = lambda s: (
            s.label + ("" if s.status == SurveyStatus.ACTIVE else " · draft")
        )
        self.fields["touchpoint"].queryset = journeys_selectors.touchpoint_choices(
            org=org, keep=instance.touchpoint_id if instance is not None else None
        )
        self.fields["touchpoint"].label_from_instance = lambda tp: (
            f"{tp.stage.journey.name} › {tp.name}"
        )
        self.fields["touchpoint"].empty_label = "The survey's touchpoint"
        self.fields["segment"].queryset = Segment.objects.for_org(org)
        self.fields["segment"].empty_label = "Choose a segment"
        self.fields["segment"].required = False
        self.fields["audience_type"].choices = AudienceType.choices
        placeholders = ", ".join(f"{{{{ {p} }}}}" for p in email_render.PLACEHOLDERS)
        self.fields[
            "body"
        ].help_text = f"Placeholders: {placeholders}. A blank line starts a paragraph."
        self.fields["subject"].help_text = "The same placeholders work here."

    def clean_send_at(self) -> datetime | None:
        return self.cleaned_data.get("send_at")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        audience_type = data.get("audience_type")
        if audience_type == AudienceType.FILTER:
            data["audience_filter"] = self.filter_spec(data)
        else:
            data["audience_filter"] = {}
        if audience_type == AudienceType.SEGMENT and not data.get("segment"):
            self.add_error("segment", "Choose the segment to send to.")
        if audience_type != AudienceType.SEGMENT:
            data["segment"] = None
        data["listed_emails"] = None
        if audience_type == AudienceType.LIST:
            emails = self._list_emails(data)
            if emails is not None and not emails:
                self.add_error("list_emails", "Give at least one email address.")
            data["listed_emails"] = emails
        if data.get("send_mode") == "later":
            send_at = data.get("send_at")
            if send_at is None:
                self.add_error("send_at", "Choose when to send.")
            elif send_at <= timezone.now():
                self.add_error("send_at", "Choose a time in the future.")
        else:
            data["send_at"] = None
        for name in ("subject", "body"):
            unknown = email_render.unknown_placeholders(data.get(name) or "")
            if unknown:
                self.add_error(name, f"Unknown placeholder(s): {', '.join(unknown)}.")
        return data

    def _list_emails(self, data: dict[str, Any]) -> list[str] | None:
        emails = [
            e.strip()
            for chunk in (data.get("list_emails") or "").splitlines()
            for e in chunk.split(",")
            if e.strip()
        ]
        upload = data.get("list_file")
        if upload:
            if upload.size > MAX_LIST_BYTES:
                self.add_error("list_file", "The file is larger than 5 MB.")
                return []
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                self.add_error("list_file", "The file is not UTF-8 text.")
                return []
            rows = list(csv.reader(io.StringIO(text)))
            column = 0
            if rows and any(cell.strip().lower() == "email" for cell in rows[0]):
                column = [cell.strip().lower() for cell in rows[0]].index("email")
                rows = rows[1:]
            emails += [
                row[column].strip() for row in rows if len(row) > column and row[column].strip()
            ]
        return emails

    def service_data(self) -> dict[str, Any]:
        """What ``campaign_create`` / ``campaign_update`` take."""
        return {name: self.cleaned_data.get(name) for name in campaigns.CAMPAIGN_FIELDS}


class SegmentForm(AudienceFilterFields, forms.ModelForm):
    class Meta:
        model = Segment
        fields = ["name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        instance = kwargs.get("instance")
        if instance is not None and instance.pk:
            kwargs.setdefault("initial", {}).update(self.initial_from(instance.filter or {}))
        super().__init__(*args, **kwargs)
        self.org = org

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        data["filter"] = self.filter_spec(data)
        return data
