"""Forms of the core, and the Bootstrap look of every form of the site.

``BootstrapFormRenderer`` (settings.FORM_RENDERER) gives each widget its Bootstrap class
and ``is-invalid`` when the field has errors, at render time: one rule in one place, so a
form or template never has to remember it. A widget that already carries a Bootstrap
class (``form-select``, ``btn-check``…) keeps its own; a size class alone
(``form-select-sm``) still gets its base class.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model
from django.forms.boundfield import BoundField
from django.forms.renderers import DjangoTemplates

from cxplatform.models import ApiKey, Employee, Organization, Role, Team

# A widget with one of these classes (whole, not a size variant) is already styled.
_STYLED = ("form-control", "form-select", "form-check-input", "form-range", "btn-check")


def bootstrap_class(widget: forms.Widget) -> str:
    """The Bootstrap class of ``widget`` ("" for hidden inputs)."""
    if widget.is_hidden:
        return ""
    if isinstance(widget, forms.CheckboxInput | forms.RadioSelect | forms.CheckboxSelectMultiple):
        return "form-check-input"
    if isinstance(widget, forms.Select):
        return "form-select"
    input_type = getattr(widget, "input_type", "")
    if input_type == "range":
        return "form-range"
    if input_type == "color":
        return "form-control form-control-color"
    return "form-control"


class BootstrapBoundField(BoundField):
    def build_widget_attrs(self, attrs: dict[str, Any], widget: Any = None) -> dict[str, Any]:
        attrs = super().build_widget_attrs(attrs, widget)
        widget = widget or self.field.widget
        classes = str(attrs.get("class", widget.attrs.get("class", ""))).split()
        wanted = bootstrap_class(widget)
        if wanted and not any(c in _STYLED for c in classes):
            classes.extend(wanted.split())
        if self.errors and not widget.is_hidden and "is-invalid" not in classes:
            classes.append("is-invalid")
        if classes:
            attrs["class"] = " ".join(classes)
        return attrs


class BootstrapFormRenderer(DjangoTemplates):
    bound_field_class = BootstrapBoundField


class OrganizationForm(forms.ModelForm):
    class Meta:
        model = Organization
        fields = ["name", "time_zone", "default_locale", "sender_name"]
        help_texts = {"time_zone": "Every date and time in the staff pages is shown in it."}


class TeamForm(forms.ModelForm):
    class Meta:
        model = Team
        fields = ["name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: object, org: Organization, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.org = org

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        clash = Team.objects.for_org(self.org).filter(name__iexact=name)
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("A team with this name already exists.")
        return name


class EmployeeForm(forms.ModelForm):
    class Meta:
        model = Employee
        fields = ["name", "email", "external_id", "team", "manager", "active"]
        labels = {"external_id": "External id"}

    def __init__(self, *args: object, org: Organization, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.instance.organization = org
        self.fields["team"].queryset = Team.objects.for_org(org)
        self.fields["team"].empty_label = "No team"
        managers = Employee.objects.for_org(org).active()
        if self.instance.pk:
            managers = managers.exclude(pk=self.instance.pk)
        self.fields["manager"].queryset = managers
        self.fields["manager"].empty_label = "No manager"


class MemberForm(forms.Form):
    email = forms.EmailField()
    name = forms.CharField(max_length=150, required=False)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER)
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(), required=False, empty_label="No team"
    )

    def __init__(self, *args: object, org: Organization, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.for_org(org)


class ApiKeyForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ["name", "role"]
        help_texts = {"name": "Where it is used, e.g. “Helpdesk integration”."}


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Also reaches members who never chose a password (added by an admin, or whose
    invitation expired): Django's form skips users without a usable password."""

    def get_users(self, email: str) -> Any:
        user_model = get_user_model()
        email_field = user_model.get_email_field_name()
        return (
            user
            for user in user_model._default_manager.filter(
                **{f"{email_field}__iexact": email, "is_active": True}
            )
            if _same_email(email, getattr(user, email_field))
        )


def _same_email(a: str, b: str) -> bool:
    """Case-insensitive, Unicode-normalised: as Django compares them for a reset."""
    return (
        unicodedata.normalize("NFKC", a).casefold() == unicodedata.normalize("NFKC", b).casefold()
    )
