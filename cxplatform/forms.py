from __future__ import annotations

from django import forms

from cxplatform.models import ApiKey, Organization, Role, Team


class OrganizationForm(forms.ModelForm):
    class Meta:
        model = Organization
        fields = ["name", "time_zone", "default_locale", "sender_name"]


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


class MemberForm(forms.Form):
    email = forms.EmailField()
    name = forms.CharField(max_length=150, required=False)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER)
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False)

    def __init__(self, *args: object, org: Organization, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.for_org(org)


class ApiKeyForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ["name", "role"]
        help_texts = {"name": "Where it is used, e.g. “Helpdesk integration”."}
