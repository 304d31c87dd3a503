"""Campaigns: the list, the form (audience, email, timing, reminders, fatigue), the preview
before launch (the email and who will receive it), the progress page refreshed by htmx,
the transitions (launch, pause, resume, cancel), and saved segments.

Everyone in the organization may look; managers change. Times are shown and entered in
the organization's time zone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from cxplatform.http import AuthedRequest
from cxplatform.models import Role
from cxplatform.services import Actor
from cxplatform.tenancy import org_member_required, require_role
from feedback.forms.campaigns import CampaignForm, SegmentForm
from feedback.models import (
    AudienceType,
    Campaign,
    CampaignStatus,
    Contact,
    Invitation,
    InvitationStatus,
    Segment,
)
from feedback.selectors import campaigns as selectors
from feedback.services import audience
from feedback.services import campaigns as services
from feedback.services import email as email_render

PAGE_SIZE = 25
POLL_SECONDS = 3
INVITATION_FILTERS = [
    ("", "All"),
    (InvitationStatus.PENDING, "Queued"),
    ("retrying", "Retrying"),
    (InvitationStatus.SENT, "Sent"),
    (InvitationStatus.OPENED, "Opened"),
    ("completed", "Completed"),
    ("partial", "Partial"),
    (InvitationStatus.FAILED, "Failed"),
    (InvitationStatus.BOUNCED, "Bounced"),
    (InvitationStatus.SUPPRESSED, "Suppressed"),
    (InvitationStatus.EXPIRED, "Expired"),
]


def _fragment(request: AuthedRequest) -> bool:
    return bool(request.htmx) and not request.htmx.boosted


def _campaign(request: AuthedRequest, pk: int) -> Campaign:
    return get_object_or_404(selectors.campaign_detail(org=request.org), pk=pk)


def _actor(request: AuthedRequest) -> Actor:
    return Actor.from_request(request)


def _errors(exc: ValidationError) -> str:
    return " ".join(exc.messages)


# --- list --------------------------------------------------------------------------------


@require_GET
@org_member_required()
@vary_on_headers("HX-Request")
def campaign_list(request: AuthedRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in CampaignStatus.values:
        status = ""
    q = request.GET.get("q", "").strip()[:200]
    campaigns = selectors.campaign_list(org=request.org, status=status, q=q)
    page = Paginator(campaigns, PAGE_SIZE).get_page(request.GET.get("page"))
    template = "feedback/campaign_list.html"
    if _fragment(request):
        template += "#campaign-table"
    return render(
        request,
        template,
        {
            "page": page,
            "rows": [(campaign, selectors.Progress.of(campaign)) for campaign in page],
            "status": status,
            "q": q,
            "statuses": CampaignStatus.choices,
            "can_edit": request.membership.can(Role.MANAGER),
            "org_tz": timezone.get_current_timezone_name(),
        },
    )


# --- create and edit ---------------------------------------------------------------------


def _save_list(campaign: Campaign, form: CampaignForm, request: AuthedRequest) -> None:
    emails = form.cleaned_data.get("listed_emails")
    if emails is None:
        return
    _matched, unknown = services.campaign_list_upload(
        campaign=campaign, emails=emails, actor=_actor(request)
    )
    if unknown:
        shown = ", ".join(unknown[:5]) + ("…" if len(unknown) > 5 else "")
        messages.warning(
            request,
            f"{len(unknown)} address(es) are not contacts and were left out: {shown}",
        )


def _form_page(
    request: AuthedRequest, form: CampaignForm, campaign: Campaign | None
) -> HttpResponse:
    return render(
        request,
        "feedback/campaign_form.html",
        {
            "form": form,
            "campaign": campaign,
            "org_tz": timezone.get_current_timezone_name(),
            "placeholders": email_render.PLACEHOLDERS,
            "has_segments": Segment.objects.for_org(request.org).exists(),
        },
        status=422 if form.is_bound and form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@org_member_required(Role.MANAGER)
def campaign_create(request: AuthedRequest) -> HttpResponse:
    initial = {"name": f"Campaign {timezone.localdate():%d %b %Y}"}
    survey_id = request.GET.get("survey", "")
    if survey_id.isdigit():
        initial["survey"] = survey_id
    form = CampaignForm(
        request.POST or None, request.FILES or None, org=request.org, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_create(
                org=request.org, data=form.service_data(), actor=_actor(request)
            )
        except ValidationError as exc:
            _add_service_errors(form, exc)
        else:
            _save_list(campaign, form, request)
            messages.success(request, "Campaign saved as a draft. Check the preview, then launch.")
            return redirect("feedback:campaign_preview", campaign.pk)
    return _form_page(request, form, None)


def _add_service_errors(form: CampaignForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@require_http_methods(["GET", "POST"])
@org_member_required(Role.MANAGER)
def campaign_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    if campaign.status not in services.EDITABLE:
        messages.info(request, "This campaign has started: it can no longer be edited.")
        return redirect("feedback:campaign_detail", campaign.pk)
    form = CampaignForm(
        request.POST or None, request.FILES or None, instance=campaign, org=request.org
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.campaign_update(
                campaign=_campaign(request, pk), data=form.service_data(), actor=_actor(request)
            )
        except ValidationError as exc:
            _add_service_errors(form, exc)
        else:
            _save_list(campaign, form, request)
            messages.success(request, "Campaign saved.")
            return redirect("feedback:campaign_preview", campaign.pk)
    return _form_page(request, form, campaign)


# --- preview and launch ------------------------------------------------------------------


def _preview_invitation(campaign: Campaign, contact: Contact | None) -> Invitation:
    """An unsaved invitation to render the email a contact would get."""
    if contact is None:
        contact = Contact(
            organization=campaign.organization, email="alex@example.com", name="Alex Example"
        )
    expires = (
        timezone.now() + timedelta(days=campaign.link_expiry_days)
        if campaign.link_expiry_days
        else None
    )
    return Invitation(
        organization=campaign.organization,
        contact=contact,
        survey=campaign.survey,
        campaign=campaign,
        touchpoint=campaign.touchpoint or campaign.survey.touchpoint,
        token="preview",  # noqa: S106 - not a secret: the preview's links are dummies
        expires_at=expires,
    )


@require_GET
@org_member_required()
def campaign_preview(request: AuthedRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    preview = audience.preview(campaign)
    sample = preview.sample[0] if preview.sample else None
    rendered = email_render.render_invitation(_preview_invitation(campaign, sample))
    context = {
        "campaign": campaign,
        "preview": preview,
        "rendered": rendered,
        "sample_contact": sample,
        "problems": services.launch_problems(campaign),
        "can_edit": request.membership.can(Role.MANAGER),
        "editable": campaign.status in services.EDITABLE,
        "scheduled_later": campaign.send_at is not None and campaign.send_at > timezone.now(),
    }
    return render(request, "feedback/campaign_preview.html", context)


@require_GET
@org_member_required()
def campaign_preview_email(request: AuthedRequest, pk: int) -> HttpResponse:
    """The preview email's HTML alone, for a sandboxed iframe (its own inline styles)."""
    campaign = _campaign(request, pk)
    contact_id = request.GET.get("contact", "")
    contact = (
        Contact.objects.for_org(request.org).filter(pk=contact_id).first()
        if contact_id.isdigit()
        else None
    )
    invitation = _preview_invitation(campaign, contact)
    html = email_render.render_invitation(invitation).html
    response = HttpResponse('<base target="_blank">' + html)
    response["Content-Security-Policy"] = (
        "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"
    )
    response["X-Frame-Options"] = "SAMEORIGIN"
    return response


def _transition(
    request: AuthedRequest, pk: int, service: Callable[..., Campaign], done: str
) -> HttpResponse:
    campaign = _campaign(request, pk)
    try:
        campaign = service(campaign=campaign, actor=_actor(request))
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    else:
        messages.success(request, done.format(campaign=campaign))
    return redirect("feedback:campaign_detail", campaign.pk)


@require_POST
@org_member_required(Role.MANAGER)
def campaign_launch(request: AuthedRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    try:
        campaign = services.campaign_launch(campaign=campaign, actor=_actor(request))
    except ValidationError as exc:
        messages.error(request, _errors(exc))
        return redirect("feedback:campaign_preview", campaign.pk)
    if campaign.status == CampaignStatus.SCHEDULED and campaign.send_at > timezone.now():
        when = timezone.localtime(campaign.send_at)
        messages.success(request, f"Scheduled for {when:%-d %b %Y, %H:%M} ({when.tzname()}).")
    elif campaign.status == CampaignStatus.SCHEDULED:
        messages.success(request, "Starting: the invitations are being created in the background.")
    else:
        messages.success(request, "Launched: the emails are on their way.")
    return redirect("feedback:campaign_detail", campaign.pk)


@require_POST
@org_member_required(Role.MANAGER)
def campaign_pause(request: AuthedRequest, pk: int) -> HttpResponse:
    return _transition(request, pk, services.campaign_pause, "Paused. Resume to send the rest.")


@require_POST
@org_member_required(Role.MANAGER)
def campaign_resume(request: AuthedRequest, pk: int) -> HttpResponse:
    return _transition(request, pk, services.campaign_resume, "Resumed.")


@require_POST
@org_member_required(Role.MANAGER)
def campaign_cancel(request: AuthedRequest, pk: int) -> HttpResponse:
    return _transition(
        request, pk, services.campaign_cancel, "Cancelled: nothing more will be sent."
    )


@require_POST
@org_member_required(Role.MANAGER)
def campaign_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    try:
        services.campaign_delete(campaign=campaign, actor=_actor(request))
    except ValidationError as exc:
        messages.error(request, _errors(exc))
        return redirect("feedback:campaign_detail", campaign.pk)
    messages.success(request, f"Draft “{campaign.name}” deleted.")
    return redirect("feedback:campaign_list")


# --- progress ----------------------------------------------------------------------------


@require_GET
@org_member_required()
@vary_on_headers("HX-Request")
def campaign_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """The progress page. htmx polls the ``progress`` fragment while the campaign is
    scheduled or sending, and swaps the ``invitations`` fragment when filtered."""
    campaign = _campaign(request, pk)
    status = request.GET.get("status", "")
    if status not in dict(INVITATION_FILTERS):
        status = ""
    invitations = selectors.campaign_invitations(campaign=campaign, status=status)
    page = Paginator(invitations, PAGE_SIZE).get_page(request.GET.get("page"))
    template = "feedback/campaign_detail.html"
    if _fragment(request):
        target = request.htmx.target or ""
        template += "#invitations" if target == "invitations" else "#progress"
    context = {
        "campaign": campaign,
        "progress": selectors.campaign_progress(campaign=campaign),
        "polling": campaign.status in (CampaignStatus.SCHEDULED, CampaignStatus.SENDING),
        "poll_seconds": POLL_SECONDS,
        "page": page,
        "status": status,
        "filters": INVITATION_FILTERS,
        "can_edit": request.membership.can(Role.MANAGER),
        "editable": campaign.status in services.EDITABLE,
        "audience_label": _audience_label(campaign),
    }
    return render(request, template, context)


def _audience_label(campaign: Campaign) -> str:
    if campaign.audience_type == AudienceType.SEGMENT and campaign.segment:
        return f"Segment “{campaign.segment.name}”"
    if campaign.audience_type == AudienceType.FILTER:
        parts = audience.describe_filter(campaign.audience_filter)
        return "Contacts where " + ("; ".join(parts) if parts else "anything matches")
    if campaign.audience_type == AudienceType.LIST:
        return "An uploaded list"
    return "All reachable contacts"


# --- segments ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@org_member_required()
def segment_list(request: AuthedRequest) -> HttpResponse:
    form = SegmentForm(request.POST or None, org=request.org)
    if request.method == "POST":
        require_role(request, Role.MANAGER)
        if form.is_valid():
            data = form.cleaned_data
            try:
                segment = services.segment_create(
                    org=request.org,
                    name=data["name"],
                    description=data.get("description", ""),
                    filter=data["filter"],
                    actor=_actor(request),
                )
            except ValidationError as exc:  # the name is taken
                form.add_error(None, exc)
            else:
                messages.success(request, f"Segment “{segment.name}” saved.")
                return redirect("feedback:segment_list")
    segments = list(selectors.segment_list(org=request.org))
    counts = {
        s.pk: audience.apply_filter(_org_contacts(request), s.filter).count() for s in segments
    }
    return render(
        request,
        "feedback/segment_list.html",
        {
            "form": form,
            "segments": [(s, counts[s.pk], audience.describe_filter(s.filter)) for s in segments],
            "can_edit": request.membership.can(Role.MANAGER),
        },
        status=422 if form.is_bound and form.errors else 200,
    )


def _org_contacts(request: AuthedRequest) -> Any:
    return Contact.objects.for_org(request.org).reachable()


@require_http_methods(["GET", "POST"])
@org_member_required(Role.MANAGER)
def segment_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    segment = get_object_or_404(selectors.segment_list(org=request.org), pk=pk)
    form = SegmentForm(request.POST or None, instance=segment, org=request.org)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.segment_update(
                segment=Segment.objects.for_org(request.org).get(pk=pk),
                data={
                    "name": data["name"],
                    "description": data.get("description", ""),
                    "filter": data["filter"],
                },
                actor=_actor(request),
            )
        except ValidationError as exc:  # the name is taken
            form.add_error(None, exc)
        else:
            messages.success(request, "Segment saved.")
            return redirect("feedback:segment_list")
    return render(
        request,
        "feedback/segment_form.html",
        {"form": form, "segment": segment},
        status=422 if form.is_bound and form.errors else 200,
    )


@require_POST
@org_member_required(Role.MANAGER)
def segment_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    segment = get_object_or_404(Segment.objects.for_org(request.org), pk=pk)
    try:
        services.segment_delete(segment=segment, actor=_actor(request))
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    else:
        messages.success(request, f"Segment “{segment.name}” deleted.")
    return redirect(reverse("feedback:segment_list"))


urlpatterns = [
    path("campaigns/", campaign_list, name="campaign_list"),
    path("campaigns/new/", campaign_create, name="campaign_create"),
    path("campaigns/segments/", segment_list, name="segment_list"),
    path("campaigns/segments/<int:pk>/", segment_edit, name="segment_edit"),
    path("campaigns/segments/<int:pk>/delete/", segment_delete, name="segment_delete"),
    path("campaigns/<int:pk>/", campaign_detail, name="campaign_detail"),
    path("campaigns/<int:pk>/edit/", campaign_edit, name="campaign_edit"),
    path("campaigns/<int:pk>/preview/", campaign_preview, name="campaign_preview"),
    path(
        "campaigns/<int:pk>/preview/email/", campaign_preview_email, name="campaign_preview_email"
    ),
    path("campaigns/<int:pk>/launch/", campaign_launch, name="campaign_launch"),
    path("campaigns/<int:pk>/pause/", campaign_pause, name="campaign_pause"),
    path("campaigns/<int:pk>/resume/", campaign_resume, name="campaign_resume"),
    path("campaigns/<int:pk>/cancel/", campaign_cancel, name="campaign_cancel"),
    path("campaigns/<int:pk>/delete/", campaign_delete, name="campaign_delete"),
]
