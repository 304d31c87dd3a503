"""Campaigns: create and edit, launch (materialise the invitations), pause, resume,
cancel; and the periodic work beat runs (scheduled launches, reminders, link expiry).

State machine: draft → scheduled → sending → sent; sending ⇄ paused; anything not sent
→ cancelled. Each transition is one conditional UPDATE (``filter(status=…).update``), so
two clicks, two workers or a beat run racing a manager change the state once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from cxplatform import queue
from cxplatform.models import Organization
from cxplatform.services import SYSTEM, Actor, audit, update_fields
from feedback import tokens
from feedback.models import (
    AudienceType,
    Campaign,
    CampaignStatus,
    Contact,
    Invitation,
    InvitationStatus,
    Segment,
    SurveyStatus,
)
from feedback.models.campaigns import DUPLICATE_SEGMENT_NAME
from feedback.services import audience as audience_service
from feedback.services import email as email_render
from feedback.services import outbox

EDITABLE = [CampaignStatus.DRAFT, CampaignStatus.SCHEDULED]
CANCELLABLE = [
    CampaignStatus.DRAFT,
    CampaignStatus.SCHEDULED,
    CampaignStatus.SENDING,
    CampaignStatus.PAUSED,
]
MATERIALISE_CHUNK = 2000

CAMPAIGN_FIELDS = [
    "name",
    "survey",
    "touchpoint",
    "audience_type",
    "audience_filter",
    "segment",
    "subject",
    "body",
    "send_at",
    "reminder_after_days",
    "max_reminders",
    "fatigue_days",
    "link_expiry_days",
]


# --- segments ----------------------------------------------------------------------------


@transaction.atomic
def segment_create(
    *, org: Organization, name: str, filter: dict, description: str = "", actor: Actor
) -> Segment:
    """Save an audience. A name the organization already uses (in any case) is a
    ValidationError on ``name``: the unique constraint decides, even between two
    requests at once."""
    segment = Segment(
        organization=org,
        name=name.strip(),
        description=description,
        filter=audience_service.validate_filter(filter),
    )
    segment.full_clean(validate_constraints=False)
    with _segment_name_guard():
        segment.save()
    audit(org=org, actor=actor, action="segment.created", obj=segment)
    return segment


@transaction.atomic
def segment_update(*, segment: Segment, data: dict[str, Any], actor: Actor) -> Segment:
    """Change a segment; a name already used is a ValidationError on ``name``."""
    if "filter" in data:
        data = {**data, "filter": audience_service.validate_filter(data["filter"])}
    if "name" in data:
        data = {**data, "name": data["name"].strip()}
    with _segment_name_guard():
        return update_fields(
            instance=segment,
            data=data,
            actor=actor,
            action="segment.updated",
            validate_constraints=False,
        )


@contextlib.contextmanager
def _segment_name_guard() -> Iterator[None]:
    """A savepoint whose unique-name violation becomes the form's and the API's error."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as exc:
        if "segment_name_unique_per_org" not in str(exc):
            raise
        raise ValidationError({"name": [DUPLICATE_SEGMENT_NAME]}) from exc


@transaction.atomic
def segment_delete(*, segment: Segment, actor: Actor) -> None:
    if Campaign.objects.filter(segment=segment).exists():
        raise ValidationError("This segment is used by a campaign; change the campaign first.")
    audit(org=segment.organization, actor=actor, action="segment.deleted", obj=segment)
    segment.delete()


# --- create and edit ---------------------------------------------------------------------


def _check(campaign: Campaign) -> None:
    """Cross-field rules a form, a serializer or a service call must all respect."""
    errors: dict[str, list[str]] = {}
    org_id = campaign.organization_id
    if campaign.survey_id and campaign.survey.organization_id != org_id:
        errors.setdefault("survey", []).append("No such survey.")
    if campaign.touchpoint_id and campaign.touchpoint.organization_id != org_id:
        errors.setdefault("touchpoint", []).append("No such touchpoint.")
    if campaign.segment_id and campaign.segment.organization_id != org_id:
        errors.setdefault("segment", []).append("No such segment.")
    if campaign.audience_type == AudienceType.SEGMENT and not campaign.segment_id:
        errors.setdefault("segment", []).append("Choose the segment to send to.")
    if campaign.audience_type == AudienceType.FILTER:
        try:
            audience_service.validate_filter(campaign.audience_filter)
        except ValidationError as exc:
            errors.setdefault("audience_filter", []).extend(exc.messages)
    for name in ("subject", "body"):
        unknown = email_render.unknown_placeholders(getattr(campaign, name) or "")
        if unknown:
            known = ", ".join("{{ %s }}" % p for p in email_render.PLACEHOLDERS)  # noqa: UP031
            errors.setdefault(name, []).append(
                f"Unknown placeholder(s): {', '.join(unknown)}. Use {known}."
            )
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def campaign_create(*, org: Organization, data: dict[str, Any], actor: Actor) -> Campaign:
    """Create a draft campaign. ``data`` holds CAMPAIGN_FIELDS (and optionally
    ``listed_contacts``, contacts of ``org``)."""
    listed = data.pop("listed_contacts", None)
    campaign = Campaign(organization=org, created_by=actor.user, **data)
    campaign.full_clean(exclude=["listed_contacts"])
    _check(campaign)
    campaign.save()
    if listed is not None:
        campaign.listed_contacts.set(
            _org_contacts(org, listed), through_defaults={"organization": org}
        )
    audit(org=org, actor=actor, action="campaign.created", obj=campaign)
    return campaign


def _org_contacts(org: Organization, contacts: Any) -> list[Contact]:
    ids = [c.pk if isinstance(c, Contact) else int(c) for c in contacts]
    return list(Contact.objects.for_org(org).filter(pk__in=ids))


@transaction.atomic
def campaign_update(*, campaign: Campaign, data: dict[str, Any], actor: Actor) -> Campaign:
    """Edit a campaign that has not started sending (draft or scheduled)."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status not in EDITABLE:
        raise ValidationError(
            f"A {campaign.get_status_display().lower()} campaign can no longer be edited."
        )
    data = dict(data)
    listed = data.pop("listed_contacts", None)
    for name, value in data.items():
        setattr(campaign, name, value)
    _check(campaign)
    campaign.refresh_from_db(fields=list(data))  # update_fields applies and audits the diff
    update_fields(instance=campaign, data=data, actor=actor, action="campaign.updated")
    if listed is not None:
        campaign.listed_contacts.set(
            _org_contacts(campaign.organization, listed),
            through_defaults={"organization_id": campaign.organization_id},
        )
    return campaign


@transaction.atomic
def campaign_list_upload(
    *, campaign: Campaign, emails: list[str], actor: Actor
) -> tuple[int, list[str]]:
    """Set the campaign's uploaded list to the contacts with these emails. Returns how many
    matched and the emails that are not contacts of the organization."""
    wanted = {e.strip().lower() for e in emails if e.strip()}
    contacts = list(Contact.objects.for_org(campaign.organization).filter(email__in=list(wanted)))
    found = {c.email.lower() for c in contacts}
    campaign.listed_contacts.set(
        contacts, through_defaults={"organization_id": campaign.organization_id}
    )
    audit(
        org=campaign.organization,
        actor=actor,
        action="campaign.list_uploaded",
        obj=campaign,
        changes={"contacts": [None, len(contacts)]},
    )
    return len(contacts), sorted(wanted - found)


# --- launch ------------------------------------------------------------------------------


def launch_problems(campaign: Campaign) -> list[str]:
    """Why the campaign cannot launch (empty: it can)."""
    problems = []
    survey = campaign.survey
    if survey.status != SurveyStatus.ACTIVE:
        problems.append(f"The survey “{survey}” is not active: publish it first.")
    if email_render.primary_question(survey) is None:
        problems.append(f"The survey “{survey}” has no primary question.")
    if campaign.audience_type == AudienceType.SEGMENT and campaign.segment_id is None:
        problems.append("Choose a segment.")
    elif not audience_service.audience(campaign).exists():
        problems.append("The audience is empty: no contact matches.")
    return problems


@transaction.atomic
def campaign_launch(*, campaign: Campaign, actor: Actor, now: datetime | None = None) -> Campaign:
    """Launch: validate, then start sending now, or schedule it when ``send_at`` is in
    the future (beat starts it). Launching a launched campaign changes nothing.

    An audience larger than ``CX_CAMPAIGN_INLINE_LAUNCH_MAX`` is started by a worker
    instead (status scheduled, due now), so a launch request never spends long creating
    a hundred thousand invitations."""
    now = now or timezone.now()
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status not in EDITABLE:
        return campaign
    problems = launch_problems(campaign)
    if problems:
        raise ValidationError(problems)
    if campaign.send_at and campaign.send_at > now:
        if campaign.status != CampaignStatus.SCHEDULED:
            Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SCHEDULED)
            audit(
                org=campaign.organization,
                actor=actor,
                action="campaign.scheduled",
                obj=campaign,
                changes={"send_at": [None, campaign.send_at.isoformat()]},
            )
        campaign.refresh_from_db()
        return campaign
    if audience_service.audience(campaign).count() > settings.CX_CAMPAIGN_INLINE_LAUNCH_MAX:
        Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SCHEDULED, send_at=now)
        audit(org=campaign.organization, actor=actor, action="campaign.launched", obj=campaign)
        queue.enqueue("feedback.tasks.campaigns.campaigns_launch_due")
        campaign.refresh_from_db()
        return campaign
    return _start(campaign, actor=actor, now=now)


def _start(campaign: Campaign, *, actor: Actor, now: datetime) -> Campaign:
    """Materialise the invitations and set the campaign sending (inside a transaction)."""
    invitations_materialise(campaign=campaign, now=now)
    before = campaign.status
    Campaign.objects.filter(pk=campaign.pk, status__in=EDITABLE).update(
        status=CampaignStatus.SENDING, launched_at=now
    )
    audit(
        org=campaign.organization,
        actor=actor,
        action="campaign.launched",
        obj=campaign,
        changes={"status": [before, CampaignStatus.SENDING], **launch_summary(campaign)},
    )
    outbox.invitations_kick()
    campaign.refresh_from_db()
    return campaign


def launch_summary(campaign: Campaign) -> dict[str, Any]:
    """What a launch did, for the audit log: the audience, how many were queued to send,
    and who was left out and why (the emails go out later: ``campaign.finished`` says
    how many were sent)."""
    rows = (
        Invitation.objects.filter(campaign=campaign)
        .values_list("status", "suppression_reason")
        .annotate(n=Count("pk"))
        .order_by()
    )
    left_out: dict[str, int] = {}
    audience_size = to_send = 0
    for status, reason, n in rows:
        audience_size += n
        if status == InvitationStatus.SUPPRESSED:
            key = reason or "suppressed"
            left_out[key] = left_out.get(key, 0) + n
        else:
            to_send += n
    return {
        "audience": audience_size,
        "to_send": to_send,
        "left_out": dict(sorted(left_out.items())),
    }


def invitations_materialise(*, campaign: Campaign, now: datetime) -> int:
    """Create one invitation per audience contact (suppressed ones with their reason) and
    mark the invited as surveyed now. Idempotent: the (campaign, contact) constraint
    makes a second run add nothing. Returns the number of rows attempted."""
    expires_at = (
        now + timedelta(days=campaign.link_expiry_days) if campaign.link_expiry_days else None
    )
    common = {
        "organization_id": campaign.organization_id,
        "survey_id": campaign.survey_id,
        "campaign_id": campaign.pk,
        "touchpoint_id": campaign.touchpoint_id or campaign.survey.touchpoint_id,
        "expires_at": expires_at,
        "created_at": now,
    }
    count = 0
    rows: list[Invitation] = []
    invited: list[int] = []

    def flush() -> None:
        Invitation.objects.bulk_create(rows, ignore_conflicts=True)
        # Surveyed now, for the fatigue rule of every later campaign.
        Contact.objects.filter(pk__in=invited).update(last_surveyed_at=now)
        rows.clear()
        invited.clear()

    # Read the whole audience first (ids and reasons: small), then write in chunks.
    for contact_id, reason in list(audience_service.classified(campaign, now=now)):
        rows.append(
            Invitation(
                contact_id=contact_id,
                token=tokens.new(campaign.organization_id),
                status=InvitationStatus.SUPPRESSED if reason else InvitationStatus.PENDING,
                suppression_reason=reason,
                **common,
            )
        )
        if not reason:
            invited.append(contact_id)
        count += 1
        if len(rows) >= MATERIALISE_CHUNK:
            flush()
    if rows:
        flush()
    return count


def campaigns_launch_due(*, now: datetime | None = None) -> list[int]:
    """Beat: start the scheduled campaigns whose time has come. Safe to repeat."""
    now = now or timezone.now()
    started = []
    due = Campaign.objects.filter(status=CampaignStatus.SCHEDULED, send_at__lte=now)
    for campaign_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            campaign = (
                Campaign.objects.select_for_update(skip_locked=True)
                .filter(pk=campaign_id, status=CampaignStatus.SCHEDULED)
                .first()
            )
            if campaign is None:
                continue
            _start(campaign, actor=SYSTEM, now=now)
            started.append(campaign_id)
    return started


# --- pause, resume, cancel ---------------------------------------------------------------


def _transition(
    campaign: Campaign, *, frm: list[str], to: str, actor: Actor, action: str, **extra: Any
) -> bool:
    changed = Campaign.objects.filter(pk=campaign.pk, status__in=frm).update(status=to, **extra)
    if changed:
        audit(
            org=campaign.organization,
            actor=actor,
            action=action,
            obj=campaign,
            changes={"status": [campaign.status, to]},
        )
    campaign.refresh_from_db()
    return bool(changed)


@transaction.atomic
def campaign_pause(*, campaign: Campaign, actor: Actor) -> Campaign:
    """Stop claiming this campaign's invitations (a batch already claimed finishes)."""
    campaign.refresh_from_db()
    if campaign.status not in (CampaignStatus.SENDING, CampaignStatus.PAUSED):
        raise ValidationError("Only a sending campaign can be paused.")
    _transition(
        campaign,
        frm=[CampaignStatus.SENDING],
        to=CampaignStatus.PAUSED,
        actor=actor,
        action="campaign.paused",
    )
    return campaign


@transaction.atomic
def campaign_resume(*, campaign: Campaign, actor: Actor) -> Campaign:
    campaign.refresh_from_db()
    if campaign.status not in (CampaignStatus.SENDING, CampaignStatus.PAUSED):
        raise ValidationError("Only a paused campaign can be resumed.")
    if _transition(
        campaign,
        frm=[CampaignStatus.PAUSED],
        to=CampaignStatus.SENDING,
        actor=actor,
        action="campaign.resumed",
    ):
        outbox.invitations_kick()
    return campaign


@transaction.atomic
def campaign_cancel(*, campaign: Campaign, actor: Actor) -> Campaign:
    """Cancel: nothing more is sent (pending invitations become suppressed, 'cancelled');
    what was sent stays sent and can still be answered."""
    campaign.refresh_from_db()
    if campaign.status == CampaignStatus.CANCELLED:
        return campaign
    if campaign.status not in CANCELLABLE:
        raise ValidationError("A sent campaign cannot be cancelled.")
    if _transition(
        campaign,
        frm=CANCELLABLE,
        to=CampaignStatus.CANCELLED,
        actor=actor,
        action="campaign.cancelled",
        completed_at=timezone.now(),
    ):
        Invitation.objects.filter(campaign=campaign, status=InvitationStatus.PENDING).update(
            status=InvitationStatus.SUPPRESSED,
            suppression_reason=audience_service.CANCELLED,
            claimed_until=None,
        )
    return campaign


@transaction.atomic
def campaign_delete(*, campaign: Campaign, actor: Actor) -> None:
    """Delete a draft (anything launched keeps its history: cancel it instead)."""
    if campaign.status != CampaignStatus.DRAFT:
        raise ValidationError("Only a draft can be deleted; cancel a launched campaign.")
    audit(org=campaign.organization, actor=actor, action="campaign.deleted", obj=campaign)
    campaign.delete()


# --- periodic ----------------------------------------------------------------------------


def invitations_expire(*, now: datetime | None = None) -> int:
    """Beat: unanswered invitations past their expiry become expired. Safe to repeat."""
    now = now or timezone.now()
    return (
        Invitation.objects.expired(now)
        .filter(
            status__in=[InvitationStatus.PENDING, InvitationStatus.SENT, InvitationStatus.OPENED]
        )
        .update(status=InvitationStatus.EXPIRED, claimed_until=None)
    )


def reminders_send(*, max_seconds: float | None = None) -> outbox.BatchResult:
    """Beat: send the reminders that are due (see outbox.reminders_run)."""
    return outbox.reminders_run(max_seconds=max_seconds)


def default_send_at(org: Organization) -> datetime:
    """Tomorrow 10:00 in the organization's time zone (the form's suggestion)."""
    import zoneinfo

    tz = zoneinfo.ZoneInfo(org.time_zone or settings.TIME_ZONE)
    local = timezone.now().astimezone(tz) + timedelta(days=1)
    return local.replace(hour=10, minute=0, second=0, microsecond=0)
