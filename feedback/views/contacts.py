"""Contacts: the list (search, filters), a contact's page with the timeline of their whole
experience, the contact form, and the CSV import with its live progress."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from cxplatform.http import AuthedRequest
from cxplatform.models import Role
from cxplatform.services import Actor
from cxplatform.tenancy import org_member_required
from feedback.forms.contacts import ContactFilterForm, ContactForm, ContactInviteForm, ImportForm
from feedback.models import Contact, ImportStatus
from feedback.selectors import contacts as selectors
from feedback.selectors import timeline
from feedback.services import contacts as services
from feedback.services import imports, invitations

PAGE_SIZE = 25
BAD_ROWS_SHOWN = 100


def _htmx_fragment(request: AuthedRequest) -> bool:
    return bool(request.htmx) and not request.htmx.boosted


def _contact(request: AuthedRequest, pk: int) -> Contact:
    return get_object_or_404(Contact.objects.for_org(request.org), pk=pk)


@require_GET
@org_member_required()
@vary_on_headers("HX-Request")
def contact_list(request: AuthedRequest) -> HttpResponse:
    form = ContactFilterForm(request.GET or None, org=request.org)
    filters: dict[str, Any] = {}
    if form.is_bound:
        # cleaned_data keeps the valid fields: a bad value (a language no contact has, a
        # typo in the URL) drops only its own filter.
        form.is_valid()
        filters = form.cleaned_data
    contacts = selectors.contact_list(org=request.org, filters=filters)
    page = Paginator(contacts, PAGE_SIZE).get_page(request.GET.get("page"))
    template = "feedback/contact_list.html"
    if _htmx_fragment(request):
        template += "#contact-table"
    context = {
        "form": form,
        "page": page,
        "filtered": form.is_bound and form.active,
        "attribute_keys": selectors.attribute_keys(org=request.org)
        if not _htmx_fragment(request)
        else [],
        "can_edit": request.membership.can(Role.MANAGER),
    }
    return render(request, template, context)


def _before(request: AuthedRequest) -> datetime | None:
    raw = request.GET.get("before", "")
    try:
        return parse_datetime(raw) if raw else None
    except ValueError:
        return None


@require_GET
@org_member_required()
@vary_on_headers("HX-Request")
def contact_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    contact = _contact(request, pk)
    page = timeline.contact_timeline(org=request.org, contact=contact, before=_before(request))
    context = {"contact": contact, "timeline": page}
    if _htmx_fragment(request):
        return render(request, "feedback/contact_detail.html#timeline-page", context)
    can_edit = request.membership.can(Role.MANAGER)
    context.update(
        summary=timeline.contact_summary(org=request.org, contact=contact),
        can_edit=can_edit,
        invite_form=ContactInviteForm(org=request.org) if can_edit else None,
    )
    return render(request, "feedback/contact_detail.html", context)


@require_POST
@org_member_required(Role.MANAGER)
def contact_invite(request: AuthedRequest, pk: int) -> HttpResponse:
    """Send one survey to this contact now (what the invitations API does)."""
    contact = _contact(request, pk)
    form = ContactInviteForm(request.POST, org=request.org)
    if not form.is_valid():
        messages.error(request, "Choose an active survey to send.")
        return redirect("feedback:contact_detail", pk=contact.pk)
    try:
        result = invitations.invitation_trigger(
            org=request.org,
            actor=Actor.from_request(request),
            survey=form.cleaned_data["survey"],
            contact_email=contact.email,
            touchpoint=form.cleaned_data["touchpoint"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        survey = result.invitation.survey
        if contact.unsubscribed_at or contact.bounced_at:
            messages.warning(
                request, f"“{survey.name}” was not emailed: {contact.email} cannot receive it."
            )
        else:
            messages.success(request, f"“{survey.name}” is on its way to {contact.email}.")
    return redirect("feedback:contact_detail", pk=contact.pk)


def _form_errors_from(form: ContactForm, error: ValidationError) -> None:
    for field, problems in error.message_dict.items():
        target = field if field in form.fields else None
        if field == "attributes":
            form.attribute_errors.extend(problems)
            target = None
        for problem in problems:
            form.add_error(target, problem)


@require_http_methods(["GET", "POST"])
@org_member_required(Role.MANAGER)
def contact_create(request: AuthedRequest) -> HttpResponse:
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        subscribed = data.pop("subscribed")
        try:
            contact = services.contact_create(
                org=request.org, actor=Actor.from_request(request), **data
            )
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            if not subscribed:
                services.contact_set_subscribed(
                    contact=contact, subscribed=False, actor=Actor.from_request(request)
                )
            messages.success(request, f"Contact {contact.email} added.")
            return redirect("feedback:contact_detail", pk=contact.pk)
    status = 422 if form.errors else 200
    return render(request, "feedback/contact_form.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
@org_member_required(Role.MANAGER)
def contact_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    contact = _contact(request, pk)
    initial = {
        "email": contact.email,
        "name": contact.name,
        "company": contact.company,
        "external_id": contact.external_id,
        "locale": contact.locale,
        "time_zone": contact.time_zone,
        "subscribed": contact.unsubscribed_at is None,
    }
    form = ContactForm(request.POST or None, initial=initial, attributes=contact.attributes)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        subscribed = data.pop("subscribed")
        actor = Actor.from_request(request)
        try:
            services.contact_update(contact=contact, data=data, actor=actor)
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            services.contact_set_subscribed(contact=contact, subscribed=subscribed, actor=actor)
            messages.success(request, "Contact saved.")
            return redirect("feedback:contact_detail", pk=contact.pk)
    status = 422 if form.errors else 200
    context = {"form": form, "contact": contact}
    return render(request, "feedback/contact_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@org_member_required(Role.MANAGER)
def contact_import(request: AuthedRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            contact_import = imports.import_create(
                org=request.org,
                actor=Actor.from_request(request),
                filename=upload.name,
                content=upload.read(),
            )
        except ValidationError as exc:
            for problem in exc.message_dict.get("file", exc.messages):
                form.add_error("file", problem)
        else:
            return redirect("feedback:contact_import_detail", pk=contact_import.pk)
    recent = selectors.contact_import_list(org=request.org)[:10]
    status = 422 if form.errors else 200
    return render(
        request, "feedback/import_form.html", {"form": form, "recent": recent}, status=status
    )


@require_GET
@org_member_required(Role.MANAGER)
@vary_on_headers("HX-Request")
def contact_import_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    contact_import = get_object_or_404(selectors.contact_import_list(org=request.org), pk=pk)
    errors = contact_import.errors or []
    context: dict[str, Any] = {
        "import": contact_import,
        "running": contact_import.status in {ImportStatus.PENDING, ImportStatus.RUNNING},
        "bad_rows": errors[:BAD_ROWS_SHOWN],
        "more_bad_rows": max(0, contact_import.error_count - BAD_ROWS_SHOWN),
        "unchanged": max(
            0,
            contact_import.processed_rows
            - contact_import.created_count
            - contact_import.updated_count
            - contact_import.error_count,
        ),
        "poll_url": reverse("feedback:contact_import_detail", args=[contact_import.pk]),
    }
    template = "feedback/import_detail.html"
    if _htmx_fragment(request):
        template += "#import-status"
    return render(request, template, context)


@require_GET
@org_member_required(Role.MANAGER)
def contact_import_errors(request: AuthedRequest, pk: int) -> HttpResponse:
    """The bad rows as CSV, with their reasons, ready to fix and upload again."""
    contact_import = get_object_or_404(
        selectors.contact_import_list(org=request.org).defer(None), pk=pk
    )
    response = HttpResponse(
        imports.bad_rows_csv(contact_import), content_type="text/csv; charset=utf-8"
    )
    stem = contact_import.filename.rsplit(".", 1)[0] or "contacts"
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in stem)[:80]
    response["Content-Disposition"] = f'attachment; filename="{safe}-bad-rows.csv"'
    return response


urlpatterns = [
    path("contacts/", contact_list, name="contact_list"),
    path("contacts/new/", contact_create, name="contact_create"),
    path("contacts/<int:pk>/", contact_detail, name="contact_detail"),
    path("contacts/<int:pk>/edit/", contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/invite/", contact_invite, name="contact_invite"),
    path("contacts/import/", contact_import, name="contact_import"),
    path("contacts/imports/<int:pk>/", contact_import_detail, name="contact_import_detail"),
    path(
        "contacts/imports/<int:pk>/bad-rows.csv",
        contact_import_errors,
        name="contact_import_errors",
    ),
]
