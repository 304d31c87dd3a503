"""Forms of the contact pages: the list's filters, the contact form (with its free-form
attributes as key/value rows), and the CSV upload. Shape and validation only; the rules
themselves live in ``feedback.services.contacts`` and are shared with the API and import."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from cxplatform.models import TIME_ZONE_CHOICES, Organization
from feedback.models import ContactStatus, Survey, SurveyKind, SurveyStatus
from feedback.selectors import contacts as selectors
from feedback.services import contacts as rules
from feedback.services import imports
from journeys import selectors as journeys_selectors


class ContactFilterForm(forms.Form):
    q = forms.CharField(
        required=False,
        label="Search",
        widget=forms.SearchInput(attrs={"placeholder": "Email, name, company, id"}),
    )
    locale = forms.ChoiceField(required=False, label="Language")
    status = forms.ChoiceField(
        required=False,
        choices=[("", "Any status"), *ContactStatus.choices],
        label="Status",
    )
    responded = forms.ChoiceField(
        required=False,
        choices=[("", "Any"), ("yes", "Has responded"), ("no", "Never responded")],
        label="Responses",
    )
    attribute = forms.CharField(
        required=False,
        max_length=200,
        label="Attribute",
        widget=forms.TextInput(attrs={"placeholder": "plan=pro", "list": "attribute-keys"}),
        help_text="key=value, or just key",
    )
    ordering = forms.ChoiceField(
        required=False,
        label="Sort by",
        choices=[
            ("", "Email"),
            ("name", "Name"),
            ("-created_at", "Newest first"),
            ("-last_surveyed_at", "Recently surveyed"),
        ],
    )

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["locale"].choices = [
            ("", "Any language"),
            *((code, code) for code in selectors.contact_locales(org=org)),
        ]
        self.fields["ordering"].widget.attrs["class"] = "form-select-sm w-auto"

    def clean_locale(self) -> str:
        return self.cleaned_data.get("locale", "")

    @property
    def active(self) -> bool:
        if not self.is_bound:
            return False
        self.is_valid()
        data = self.cleaned_data
        return any(data.get(k) for k in ("q", "locale", "status", "responded", "attribute"))


class ContactForm(forms.Form):
    """A contact's profile and attributes. The attributes come as parallel lists
    ``attribute_key`` / ``attribute_value`` (rows of a table the person can extend)."""

    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autofocus": True}))
    name = forms.CharField(max_length=200, required=False)
    company = forms.CharField(max_length=200, required=False)
    external_id = forms.CharField(
        max_length=100,
        required=False,
        label="External id",
        help_text="Your CRM's or shop's id for this customer.",
    )
    locale = forms.CharField(
        max_length=10,
        required=False,
        label="Language",
        widget=forms.TextInput(attrs={"placeholder": "en, de, fr-CH…"}),
        help_text="Surveys are shown in this language when they have it.",
    )
    time_zone = forms.ChoiceField(
        required=False, choices=[("", "—"), *TIME_ZONE_CHOICES], label="Time zone"
    )
    subscribed = forms.BooleanField(
        required=False,
        initial=True,
        label="Receives survey emails",
        help_text="Untick when the customer asks not to be surveyed. Tick again only at their request.",
    )

    EXTRA_ROWS = 1

    def __init__(self, *args: Any, attributes: dict[str, Any] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if self.is_bound:
            keys = self.data.getlist("attribute_key")
            values = self.data.getlist("attribute_value")
            rows = [(k, values[i] if i < len(values) else "") for i, k in enumerate(keys)]
            # Blank rows are the spare ones the page adds: re-rendering after an error
            # adds its own, so keeping them would grow the table on every failed save.
            self.attribute_rows = [(k, v) for k, v in rows if k.strip() or v.strip()]
        else:
            self.attribute_rows = [
                (k, "" if v is None else str(v)) for k, v in (attributes or {}).items()
            ]
        self.attribute_errors: list[str] = []
        self.original_attributes = attributes or {}

    @property
    def rows_for_display(self) -> list[tuple[str, str]]:
        return [*self.attribute_rows, *([("", "")] * self.EXTRA_ROWS)]

    def clean_locale(self) -> str:
        try:
            return rules.normalize_locale(self.cleaned_data.get("locale", ""))
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        attributes: dict[str, Any] = {}
        for raw_key, raw_value in self.attribute_rows:
            key, value = raw_key.strip(), raw_value.strip()
            if not key and not value:
                continue
            if not key:
                self.attribute_errors.append(f"The value “{value[:40]}” has no name.")
                continue
            normalised = rules.attribute_key(key)
            if normalised in attributes:
                self.attribute_errors.append(f"The attribute “{normalised}” appears twice.")
                continue
            original = self.original_attributes.get(normalised)
            # An unchanged number or flag keeps its JSON type (an API may have set it).
            if original is not None and str(original) == value:
                attributes[normalised] = original
            else:
                attributes[normalised] = value
        try:
            cleaned["attributes"] = rules.clean_attributes(attributes)
        except ValidationError as exc:
            self.attribute_errors.extend(exc.messages)
        if self.attribute_errors:
            raise forms.ValidationError("Some attributes need fixing (see below).")
        return cleaned


class ContactInviteForm(forms.Form):
    """Staff send one survey to one contact (the same path as the invitations API)."""

    survey = forms.ModelChoiceField(queryset=Survey.objects.none(), empty_label=None)
    touchpoint = forms.ModelChoiceField(
        queryset=None,
        required=False,
        empty_label="The survey's own touchpoint",
        help_text="Which moment of the journey the answer is about.",
    )

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["survey"].queryset = (
            Survey.objects.for_org(org)
            .filter(status=SurveyStatus.ACTIVE)
            .exclude(kind=SurveyKind.ENPS)
            .order_by("name")
        )
        self.fields["touchpoint"].queryset = journeys_selectors.touchpoint_choices(org=org)
        self.fields["touchpoint"].label_from_instance = lambda t: (
            f"{t.stage.journey.name} › {t.stage.name} › {t.name}"
        )


class ImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=(
            "The first row names the columns; one must be <code>email</code>. Known columns: "
            "email, name, company, external_id, locale, time_zone. Any other column becomes an "
            "attribute. Comma, semicolon or tab separated; UTF-8, UTF-16 or Windows encoding."
        ),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".csv,.txt,text/csv", "class": "form-control"}
        ),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size == 0:
            raise forms.ValidationError("The file is empty.")
        if upload.size > imports.MAX_FILE_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {imports.MAX_FILE_BYTES // 2**20} MB. Split it in parts."
            )
        return upload
