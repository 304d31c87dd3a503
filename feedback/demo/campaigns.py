"""Demo campaigns: a saved segment, a campaign sent ten days ago with realistic progress
(sent, opened, answered with real responses, a few bounced and failed, reminders, and the
suppressed with their reasons), one scheduled for next Monday morning, and a small draft
ready to launch from the UI into the demo mailbox.

Deterministic (a seeded random) and safe to run twice: each campaign is created only when
no campaign of its name exists.
"""

from __future__ import annotations

import random
import zoneinfo
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cxplatform.models import Organization
from feedback import tokens
from feedback.models import (
    Answer,
    AudienceType,
    Campaign,
    CampaignStatus,
    Contact,
    DeliveryEvent,
    Invitation,
    InvitationStatus,
    Question,
    Response,
    ResponseChannel,
    Segment,
    Survey,
    SurveyKind,
    SurveyStatus,
)
from feedback.scoring import category_for
from feedback.services import audience

SENT_NAME = "Spring loyalty check"
SCHEDULED_NAME = "Store visit follow-up (Germany)"
DRAFT_NAME = "Returns: a quick question"
SEGMENT_NAME = "Premium plan customers"

# What happened to each delivered email (weights): the answer rates of a good campaign.
OUTCOMES = [
    (InvitationStatus.RESPONDED, 24),
    (InvitationStatus.OPENED, 18),
    (InvitationStatus.SENT, 53),
    (InvitationStatus.BOUNCED, 2),
    (InvitationStatus.FAILED, 2),
    (InvitationStatus.EXPIRED, 2),
]
NPS_SCORES = [10] * 24 + [9] * 21 + [8] * 17 + [7] * 13 + [6] * 9 + [5] * 6 + [3] * 5 + [1] * 5


def seed(*, org: Organization, stdout: Any = None, quick: bool = False) -> None:
    surveys = {
        s.kind: s
        for s in Survey.objects.for_org(org).filter(status=SurveyStatus.ACTIVE).order_by("id")
    }
    nps = surveys.get(SurveyKind.NPS)
    if nps is None or not Contact.objects.for_org(org).exists():
        if stdout:
            stdout.write("Campaigns: skipped (no active NPS survey or no contacts yet).")
        return
    segment, _ = Segment.objects.get_or_create(
        organization=org,
        name=SEGMENT_NAME,
        defaults={
            "description": "Customers on the premium plan, in every country.",
            "filter": {"attributes": {"plan": "premium"}},
        },
    )
    made = []
    if not Campaign.objects.for_org(org).filter(name=SENT_NAME).exists():
        campaign = _sent_campaign(org, nps, quick=quick)
        made.append(
            f"{campaign.name} ({Invitation.objects.filter(campaign=campaign).count()} invitations)"
        )
    if not Campaign.objects.for_org(org).filter(name=SCHEDULED_NAME).exists():
        made.append(_scheduled_campaign(org, surveys.get(SurveyKind.CSAT) or nps).name)
    if not Campaign.objects.for_org(org).filter(name=DRAFT_NAME).exists():
        made.append(_draft_campaign(org, surveys.get(SurveyKind.CES) or nps).name)
    if stdout:
        stdout.write(
            "Campaigns: "
            + ("; ".join(made) if made else "already there")
            + f" (segment “{segment.name}”)."
        )


@transaction.atomic
def _sent_campaign(org: Organization, survey: Survey, *, quick: bool) -> Campaign:
    rng = random.Random(f"campaigns-{org.slug}")
    now = timezone.now()
    launched = (now - timedelta(days=10)).replace(hour=9, minute=0, second=0, microsecond=0)
    campaign = Campaign.objects.create(
        organization=org,
        name=SENT_NAME,
        survey=survey,
        touchpoint=survey.touchpoint,
        status=CampaignStatus.SENT,
        audience_type=AudienceType.FILTER,
        audience_filter={"locale": "en"},
        subject="{{ contact.first_name }}, would you recommend {{ company }}?",
        body=(
            "Hi {{ contact.first_name }},\n\nspring is here, and we would love to know how "
            "{{ company }} is doing for you. It takes one click.\n\nThank you!\n"
            "The Northwind team"
        ),
        reminder_after_days=4,
        max_reminders=1,
        fatigue_days=21,
        link_expiry_days=30,
        created_at=launched - timedelta(days=1),
        launched_at=launched,
        completed_at=launched + timedelta(minutes=7),
    )
    limit = 150 if quick else 600
    rows = list(audience.classified(campaign, now=launched))[:limit]
    question = Question.objects.filter(
        survey=survey, is_primary=True, archived_at__isnull=True
    ).first()
    expires = launched + timedelta(days=campaign.link_expiry_days)
    invitations = []
    for contact_id, reason in rows:
        invitation = Invitation(
            organization=org,
            contact_id=contact_id,
            survey=survey,
            campaign=campaign,
            touchpoint=campaign.touchpoint,
            token=tokens.new(org.pk),
            created_at=launched,
            expires_at=expires,
        )
        if reason:
            invitation.status = InvitationStatus.SUPPRESSED
            invitation.suppression_reason = reason
        else:
            _deliver(invitation, rng, launched, now)
        invitations.append(invitation)
    Invitation.objects.bulk_create(invitations, batch_size=500)
    for invitation in invitations:
        if invitation.sent_at:
            invitation.message_id = f"<invitation-{invitation.pk}.{invitation.token[:8]}@demo>"
    Invitation.objects.bulk_update(
        [i for i in invitations if i.message_id], ["message_id"], batch_size=500
    )
    _responses(
        org,
        campaign,
        question,
        [i for i in invitations if i.status == InvitationStatus.RESPONDED],
        rng,
    )
    _events(org, invitations)
    sent_ids = [i.contact_id for i in invitations if i.sent_at]
    Contact.objects.filter(pk__in=sent_ids).filter(
        Q(last_surveyed_at__isnull=True) | Q(last_surveyed_at__lt=launched)
    ).update(last_surveyed_at=launched)
    return campaign


def _deliver(invitation: Invitation, rng: random.Random, launched: datetime, now: datetime) -> None:
    outcome = rng.choices([o for o, _ in OUTCOMES], weights=[w for _, w in OUTCOMES])[0]
    invitation.sent_at = launched + timedelta(seconds=rng.randint(5, 420))
    invitation.attempts = 1
    if outcome == InvitationStatus.FAILED:
        invitation.status = InvitationStatus.FAILED
        invitation.sent_at = None
        invitation.attempts = 8
        invitation.last_error = "SMTPRecipientsRefused: 550 5.1.1 <mailbox unavailable>"
        return
    if outcome == InvitationStatus.BOUNCED:
        invitation.status = InvitationStatus.BOUNCED
        invitation.last_error = "550 5.1.1 The email account that you tried to reach does not exist"
        return
    reminded = (
        outcome in (InvitationStatus.SENT, InvitationStatus.OPENED, InvitationStatus.EXPIRED)
        or rng.random() < 0.3
    )
    if reminded:
        invitation.reminders_sent = 1
        invitation.last_reminder_at = invitation.sent_at + timedelta(days=4)
    if outcome in (InvitationStatus.OPENED, InvitationStatus.RESPONDED):
        invitation.opened_at = invitation.sent_at + timedelta(minutes=rng.randint(3, 60 * 30))
    if outcome == InvitationStatus.RESPONDED:
        invitation.status = InvitationStatus.RESPONDED
        invitation.responded_at = min(
            now, invitation.opened_at + timedelta(minutes=rng.randint(1, 20))
        )
    elif outcome == InvitationStatus.OPENED:
        invitation.status = InvitationStatus.OPENED
    elif outcome == InvitationStatus.EXPIRED:
        invitation.status = InvitationStatus.EXPIRED
    else:
        invitation.status = InvitationStatus.SENT


def _responses(
    org: Organization,
    campaign: Campaign,
    question: Question | None,
    answered: list[Invitation],
    rng: random.Random,
) -> None:
    if question is None or not answered:
        return
    responses = []
    for invitation in answered:
        score = rng.choice(NPS_SCORES)
        responses.append(
            Response(
                organization=org,
                invitation=invitation,
                survey=campaign.survey,
                contact_id=invitation.contact_id,
                campaign=campaign,
                touchpoint=campaign.touchpoint,
                channel=ResponseChannel.EMAIL,
                primary_type=question.type,
                primary_score=score,
                category=category_for(question.type, score),
                locale="en",
                completed=True,
                started_at=invitation.responded_at,
                submitted_at=invitation.responded_at,
            )
        )
    Response.objects.bulk_create(responses, batch_size=500)
    Answer.objects.bulk_create(
        [
            Answer(
                organization=org,
                response=response,
                question=question,
                question_text=question.text,
                question_type=question.type,
                value_number=response.primary_score,
                answered_at=response.submitted_at,
            )
            for response in responses
        ],
        batch_size=500,
    )


def _events(org: Organization, invitations: list[Invitation]) -> None:
    events = []
    for invitation in invitations:
        if invitation.opened_at:
            events.append(
                DeliveryEvent(
                    organization=org,
                    invitation=invitation,
                    contact_id=invitation.contact_id,
                    kind=DeliveryEvent.Kind.OPEN,
                    created_at=invitation.opened_at,
                )
            )
        if invitation.reminders_sent:
            events.append(
                DeliveryEvent(
                    organization=org,
                    invitation=invitation,
                    contact_id=invitation.contact_id,
                    kind=DeliveryEvent.Kind.REMINDER,
                    detail="Reminder 1",
                    created_at=invitation.last_reminder_at,
                )
            )
        if invitation.status == InvitationStatus.BOUNCED:
            events.append(
                DeliveryEvent(
                    organization=org,
                    invitation=invitation,
                    contact_id=invitation.contact_id,
                    kind=DeliveryEvent.Kind.BOUNCE,
                    detail=invitation.last_error,
                    created_at=invitation.sent_at + timedelta(minutes=2),
                )
            )
    DeliveryEvent.objects.bulk_create(events, batch_size=500)


def _next_monday_morning(org: Organization) -> datetime:
    tz = zoneinfo.ZoneInfo(org.time_zone or "UTC")
    local = timezone.now().astimezone(tz)
    days = (7 - local.weekday()) % 7 or 7
    return (local + timedelta(days=days)).replace(hour=10, minute=0, second=0, microsecond=0)


def _scheduled_campaign(org: Organization, survey: Survey) -> Campaign:
    return Campaign.objects.create(
        organization=org,
        name=SCHEDULED_NAME,
        survey=survey,
        touchpoint=survey.touchpoint,
        status=CampaignStatus.SCHEDULED,
        audience_type=AudienceType.FILTER,
        audience_filter={"locale": "de"},
        subject="{{ contact.first_name }}, wie war Ihr Besuch bei {{ company }}?",
        body=(
            "Hallo {{ contact.first_name }},\n\nvielen Dank für Ihren Besuch. Wie zufrieden "
            "waren Sie? Ein Klick genügt.\n\nIhr Northwind-Team"
        ),
        send_at=_next_monday_morning(org),
        reminder_after_days=3,
        max_reminders=1,
        fatigue_days=30,
    )


def _draft_campaign(org: Organization, survey: Survey) -> Campaign:
    campaign = Campaign.objects.create(
        organization=org,
        name=DRAFT_NAME,
        survey=survey,
        touchpoint=survey.touchpoint,
        audience_type=AudienceType.LIST,
        subject="{{ contact.first_name }}, how easy was your return?",
        body="Hi {{ contact.first_name }},\n\nthank you for your recent return. One quick question:",
        reminder_after_days=3,
        max_reminders=1,
        fatigue_days=0,
    )
    listed = (
        Contact.objects.for_org(org)
        .reachable()
        .filter(locale="en")
        .exclude(name="")
        .order_by("id")[:5]
    )
    campaign.listed_contacts.set(listed, through_defaults={"organization": org})
    return campaign
