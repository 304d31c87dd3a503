"""Every form of the site renders with Bootstrap's classes, from one rule
(cxplatform.forms.BootstrapFormRenderer), without doubling the classes a form set itself."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.template.loader import render_to_string
from django.urls import reverse

from cxplatform.forms import MemberForm, OrganizationForm

pytestmark = pytest.mark.django_db


def _classes(html: str, name: str) -> list[str]:
    tag = re.search(rf'<(?:input|select|textarea)\b[^>]*name="{name}"[^>]*>', html).group(0)
    return re.search(r'class="([^"]*)"', tag).group(1).split()


class Everything(forms.Form):
    text = forms.CharField()
    number = forms.IntegerField()
    when = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    notes = forms.CharField(widget=forms.Textarea)
    kind = forms.ChoiceField(choices=[("a", "A"), ("b", "B")])
    tags = forms.MultipleChoiceField(choices=[("a", "A")], widget=forms.SelectMultiple)
    agree = forms.BooleanField()
    size = forms.ChoiceField(choices=[("s", "S"), ("m", "M")], widget=forms.RadioSelect)
    upload = forms.FileField()
    secret = forms.CharField(widget=forms.HiddenInput)
    small = forms.ChoiceField(
        choices=[("a", "A")], widget=forms.Select(attrs={"class": "form-select form-select-sm"})
    )


def test_each_kind_of_widget_gets_its_bootstrap_class():
    html = str(Everything())
    for name in ["text", "number", "when", "notes", "upload"]:
        assert _classes(html, name) == ["form-control"], name
    assert _classes(html, "kind") == ["form-select"]
    assert _classes(html, "tags") == ["form-select"]
    assert _classes(html, "agree") == ["form-check-input"]
    assert _classes(html, "size") == ["form-check-input"]
    assert 'class="' not in re.search(r'<input[^>]*name="secret"[^>]*>', html).group(0)
    # A class the form chose itself is kept, and not doubled.
    assert _classes(html, "small") == ["form-select", "form-select-sm"]


def test_a_field_with_an_error_is_marked_invalid_for_people_and_screen_readers():
    form = Everything(data={"text": "", "kind": "a"})
    html = render_to_string("includes/form_fields.html", {"form": form})
    tag = re.search(r'<input\b[^>]*name="text"[^>]*>', html).group(0)
    assert "form-control is-invalid" in tag
    assert 'aria-invalid="true"' in tag
    assert 'aria-describedby="id_text_error"' in tag
    assert 'id="id_text_error"' in html
    assert "is-invalid" not in _classes(html, "kind")


def test_the_settings_forms_render_styled(admin, org):
    html = admin.get(reverse("settings_home")).content.decode()
    assert _classes(html, "name") == ["form-control"]
    assert _classes(html, "time_zone") == ["form-select"]
    assert _classes(html, "default_locale") == ["form-select"]
    html = admin.get(reverse("member_list")).content.decode()
    assert _classes(html, "email") == ["form-control"]
    assert _classes(html, "role") == ["form-select"]
    assert _classes(html, "team") == ["form-select"]


def test_the_forms_of_other_apps_keep_one_set_of_classes(org):
    from feedback.forms.contacts import ContactFilterForm, ContactForm
    from journeys.forms import JourneyCreateForm

    html = str(ContactFilterForm(org=org))
    assert _classes(html, "ordering").count("form-select") == 1
    html = str(ContactForm())
    assert _classes(html, "email") == ["form-control"]
    html = str(JourneyCreateForm(org=org))
    assert _classes(html, "name") == ["form-control"]


def test_core_forms_need_no_styling_code_of_their_own(org):
    assert _classes(str(MemberForm(org=org)), "email") == ["form-control"]
    assert _classes(str(OrganizationForm()), "time_zone") == ["form-select"]
