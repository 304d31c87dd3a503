"""Campaign services: the audience and its suppression reasons, launch (idempotent),
scheduling, pause / resume / cancel, reminders and link expiry. Delivery runs in-process
(eager Celery) into the locmem outbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from cxplatform.services import SYSTEM
from feedback.models import (
    Campaign,
    CampaignStatus,
    Contact,
    DeliveryEvent,
    Invitation,
    InvitationStatus,
)
from feedback.services import audience, campaigns, outbox, transport
from tests.feedback.factories import (
    CampaignFactory,
    ContactFactory,
    InvitationFactory,
    SegmentFactory,
    SurveyFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run what the service queued for after its commit (the delivery kick), now."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


def _statuses(campaign):
    return dict(
        Invitation.objects.filter(campaign=campaign).values_list("contact__email", "status")
    )


def test_launch_invites_the_eligible_and_suppresses_the_rest_each_with_its_reason(
    org, mailoutbox, run_on_commit
):
    now = timezone.now()
    campaign = CampaignFactory(organization=org, fatigue_days=30)
    ContactFactory(organization=org, email="ok@example.com")
    ContactFactory(organization=org, email="gone@example.com", unsubscribed_at=now)
    ContactFactory(organization=org, email="bounced@example.com", bounced_at=now)
    ContactFactory(organization=org, email="not-an-address")
    ContactFactory(
        organization=org, email="recent@example.com", last_surveyed_at=now - timedelta(days=5)
    )
    asked_elsewhere = ContactFactory(organization=org, email="asked@example.com")
    InvitationFactory(
        organization=org, contact=asked_elsewhere, status="sent", sent_at=now - timedelta(days=3)
    )
    ContactFactory(
        organization=org, email="long-ago@example.com", last_surveyed_at=now - timedelta(days=60)
    )

    run_on_commit(campaigns.campaign_launch, campaign=campaign, actor=SYSTEM)

    rows = {
        email: (status, reason)
        for email, status, reason in Invitation.objects.filter(campaign=campaign).values_list(
            "contact__email", "status", "suppression_reason"
        )
    }
    assert rows == {
        "ok@example.com": ("sent", ""),
        "long-ago@example.com": ("sent", ""),
        "gone@example.com": ("suppressed", "unsubscribed"),
        "bounced@example.com": ("suppressed", "bounced"),
        "not-an-address": ("suppressed", "invalid email"),
        "recent@example.com": ("suppressed", "fatigued"),
        "asked@example.com": ("suppressed", "fatigued"),
    }
    assert sorted(m.to[0] for m in mailoutbox) == ["long-ago@example.com", "ok@example.com"]
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT
    assert campaign.completed_at is not None
    surveyed = Contact.objects.get(email="ok@example.com").last_surveyed_at
    assert surveyed is not None
    assert surveyed >= now
    # the suppressed were not "surveyed": the fatigue clock does not move for them
    assert Contact.objects.get(email="gone@example.com").last_surveyed_at is None


def test_the_fatigue_rule_spans_campaigns_so_nobody_is_asked_twice_within_it(
    org, mailoutbox, run_on_commit
):
    ContactFactory.create_batch(3, organization=org)
    first = CampaignFactory(organization=org, fatigue_days=14)
    second = CampaignFactory(organization=org, fatigue_days=14)
    run_on_commit(campaigns.campaign_launch, campaign=first, actor=SYSTEM)
    run_on_commit(campaigns.campaign_launch, campaign=second, actor=SYSTEM)
    assert len(mailoutbox) == 3
    assert set(_statuses(second).values()) == {InvitationStatus.SUPPRESSED}

    third = CampaignFactory(organization=org, fatigue_days=0)  # the rule turned off
    run_on_commit(campaigns.campaign_launch, campaign=third, actor=SYSTEM)
    assert len(mailoutbox) == 6


def test_launching_twice_changes_nothing(org, mailoutbox, run_on_commit):
    ContactFactory.create_batch(2, organization=org)
    campaign = CampaignFactory(organization=org)
    run_on_commit(campaigns.campaign_launch, campaign=campaign, actor=SYSTEM)
    run_on_commit(campaigns.campaign_launch, campaign=campaign, actor=SYSTEM)
    assert Invitation.objects.filter(campaign=campaign).count() == 2
    assert len(mailoutbox) == 2


def test_materialising_again_adds_no_invitation(org):
    ContactFactory.create_batch(3, organization=org)
    campaign = CampaignFactory(organization=org)
    now = timezone.now()
    campaigns.invitations_materialise(campaign=campaign, now=now)
    campaigns.invitations_materialise(campaign=campaign, now=now)
    assert Invitation.objects.filter(campaign=campaign).count() == 3


@pytest.mark.parametrize(
    ("survey_kwargs", "contacts", "problem"),
    [
        ({"status": "draft"}, 1, "not active"),
        ({"questions": False}, 1, "no primary question"),
        ({}, 0, "audience is empty"),
    ],
)
def test_a_campaign_that_is_not_ready_does_not_launch(org, survey_kwargs, contacts, problem):
    survey = SurveyFactory(organization=org, **survey_kwargs)
    campaign = CampaignFactory(organization=org, survey=survey)
    ContactFactory.create_batch(contacts, organization=org)
    with pytest.raises(ValidationError, match=problem):
        campaigns.campaign_launch(campaign=campaign, actor=SYSTEM)
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.DRAFT
    assert not Invitation.objects.exists()


def test_a_scheduled_campaign_starts_when_beat_finds_it_due(org, mailoutbox, run_on_commit):
    ContactFactory.create_batch(2, organization=org)
    send_at = timezone.now() + timedelta(hours=2)
    campaign = CampaignFactory(organization=org, send_at=send_at)
    campaign = campaigns.campaign_launch(campaign=campaign, actor=SYSTEM)
    assert campaign.status == CampaignStatus.SCHEDULED
    assert not Invitation.objects.exists()
    assert campaigns.campaigns_launch_due() == []  # not yet
    with time_machine.travel(send_at + timedelta(minutes=1)):
        started = run_on_commit(campaigns.campaigns_launch_due)
        assert run_on_commit(campaigns.campaigns_launch_due) == []  # and only once
    assert started == [campaign.pk]
    assert len(mailoutbox) == 2
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SENT


def test_a_large_audience_is_materialised_by_a_worker_not_the_launch_request(
    org, mailoutbox, settings, django_capture_on_commit_callbacks
):
    settings.CX_CAMPAIGN_INLINE_LAUNCH_MAX = 2
    ContactFactory.create_batch(3, organization=org)
    campaign = CampaignFactory(organization=org)
    with django_capture_on_commit_callbacks() as callbacks:
        launched = campaigns.campaign_launch(campaign=campaign, actor=SYSTEM)
    assert launched.status == CampaignStatus.SCHEDULED
    assert not Invitation.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:
            callback()  # the worker's task: start what is due
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SENT
    assert len(mailoutbox) == 3


def test_the_audience_may_be_a_filter_a_segment_or_a_list(org):
    pro = ContactFactory(organization=org, attributes={"plan": "pro"}, locale="de")
    ContactFactory(organization=org, attributes={"plan": "free"}, locale="de")
    other = ContactFactory(organization=org, email="x@acme.example")
    by_filter = CampaignFactory(
        organization=org,
        audience_type="filter",
        audience_filter={"locale": "de", "attributes": {"plan": "pro"}},
    )
    by_segment = CampaignFactory(
        organization=org,
        audience_type="segment",
        segment=SegmentFactory(organization=org, filter={"email__endswith": "@acme.example"}),
    )
    by_list = CampaignFactory(organization=org, audience_type="list")
    by_list.listed_contacts.set([pro, other], through_defaults={"organization": org})
    assert list(audience.audience(by_filter)) == [pro]
    assert list(audience.audience(by_segment)) == [other]
    assert set(audience.audience(by_list)) == {pro, other}


def test_an_unknown_filter_key_is_refused_with_the_allowed_ones(org):
    with pytest.raises(ValidationError, match="Allowed"):
        audience.validate_filter({"password": "x"})
    with pytest.raises(ValidationError):
        campaigns.campaign_create(
            org=org,
            data={
                "name": "x",
                "survey": SurveyFactory(organization=org),
                "audience_type": "filter",
                "audience_filter": {"attributes": {"a b": 1}},
            },
            actor=SYSTEM,
        )


def test_unknown_placeholders_are_refused(org):
    with pytest.raises(ValidationError, match="Unknown placeholder"):
        campaigns.campaign_create(
            org=org,
            data={
                "name": "x",
                "survey": SurveyFactory(organization=org),
                "subject": "Hi {{ contact.secret }}",
            },
            actor=SYSTEM,
        )


def test_a_campaign_cannot_use_another_organizations_survey(org, other_org):
    with pytest.raises(ValidationError, match="No such survey"):
        campaigns.campaign_create(
            org=org,
            data={"name": "x", "survey": SurveyFactory(organization=other_org)},
            actor=SYSTEM,
        )


def test_pause_stops_sending_and_resume_sends_the_rest(org, mailoutbox, run_on_commit):
    campaign = CampaignFactory(organization=org, status=CampaignStatus.SENDING)
    for _ in range(3):
        InvitationFactory(organization=org, campaign=campaign, survey=campaign.survey)
    campaigns.campaign_pause(campaign=campaign, actor=SYSTEM)
    outbox.delivery_run()
    assert mailoutbox == []
    run_on_commit(campaigns.campaign_resume, campaign=campaign, actor=SYSTEM)
    assert len(mailoutbox) == 3
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SENT


def test_cancel_suppresses_what_is_queued_and_keeps_what_was_sent(org):
    campaign = CampaignFactory(organization=org, status=CampaignStatus.SENDING)
    sent = InvitationFactory(
        organization=org, campaign=campaign, survey=campaign.survey, status="sent"
    )
    queued = InvitationFactory(organization=org, campaign=campaign, survey=campaign.survey)
    campaigns.campaign_cancel(campaign=campaign, actor=SYSTEM)
    campaigns.campaign_cancel(campaign=campaign, actor=SYSTEM)  # twice: no change
    assert Invitation.objects.get(pk=sent.pk).status == InvitationStatus.SENT
    queued.refresh_from_db()
    assert (queued.status, queued.suppression_reason) == ("suppressed", "cancelled")
    with pytest.raises(ValidationError):
        campaigns.campaign_resume(campaign=campaign, actor=SYSTEM)


def test_a_sent_campaign_cannot_be_edited_paused_or_cancelled(org):
    campaign = CampaignFactory(organization=org, status=CampaignStatus.SENT)
    with pytest.raises(ValidationError):
        campaigns.campaign_update(campaign=campaign, data={"name": "x"}, actor=SYSTEM)
    with pytest.raises(ValidationError):
        campaigns.campaign_pause(campaign=campaign, actor=SYSTEM)
    with pytest.raises(ValidationError):
        campaigns.campaign_cancel(campaign=campaign, actor=SYSTEM)


# --- reminders and expiry ----------------------------------------------------------------


def _sent_invitation(campaign, *, days_ago: int, **fields):
    return InvitationFactory(
        organization=campaign.organization,
        campaign=campaign,
        survey=campaign.survey,
        status=fields.pop("status", InvitationStatus.SENT),
        sent_at=timezone.now() - timedelta(days=days_ago),
        **fields,
    )


def test_reminders_go_to_those_who_have_not_answered_after_n_days(org, mailoutbox):
    campaign = CampaignFactory(
        organization=org, status=CampaignStatus.SENT, reminder_after_days=3, max_reminders=2
    )
    due = _sent_invitation(campaign, days_ago=4)
    opened = _sent_invitation(campaign, days_ago=4, status=InvitationStatus.OPENED)
    too_soon = _sent_invitation(campaign, days_ago=1)
    answered = _sent_invitation(
        campaign, days_ago=4, status=InvitationStatus.RESPONDED, responded_at=timezone.now()
    )
    expired = _sent_invitation(campaign, days_ago=4, expires_at=timezone.now() - timedelta(hours=1))
    gone = _sent_invitation(campaign, days_ago=4)
    Contact.objects.filter(pk=gone.contact_id).update(unsubscribed_at=timezone.now())

    result = campaigns.reminders_send()

    assert result.sent == 2
    assert sorted(m.to[0] for m in mailoutbox) == sorted([due.contact.email, opened.contact.email])
    assert all(m.subject.startswith("Reminder: ") for m in mailoutbox)
    assert {m.extra_headers["Message-ID"] for m in mailoutbox} == {
        f"<invitation-{i.pk}.{i.token[:8]}.r1@testserver>" for i in (due, opened)
    }
    for invitation in (too_soon, answered, expired, gone):
        invitation.refresh_from_db()
        assert invitation.reminders_sent == 0
    assert DeliveryEvent.objects.filter(kind="reminder").count() == 2


def test_at_most_m_reminders_each_n_days_apart(org, mailoutbox):
    campaign = CampaignFactory(
        organization=org, status=CampaignStatus.SENT, reminder_after_days=2, max_reminders=2
    )
    invitation = _sent_invitation(campaign, days_ago=3)
    campaigns.reminders_send()
    campaigns.reminders_send()  # the same day: nothing more
    assert len(mailoutbox) == 1
    with time_machine.travel(timezone.now() + timedelta(days=2, hours=1)):
        campaigns.reminders_send()
    with time_machine.travel(timezone.now() + timedelta(days=5)):
        campaigns.reminders_send()  # M = 2 reached
    assert len(mailoutbox) == 2
    invitation.refresh_from_db()
    assert invitation.reminders_sent == 2


def test_a_response_arriving_after_the_claim_stops_the_reminder(org, mailoutbox, monkeypatch):
    """The check right before each send: the invitation was claimed while unanswered, the
    response lands before its turn in the batch; no reminder goes out."""
    campaign = CampaignFactory(
        organization=org, status=CampaignStatus.SENT, reminder_after_days=1, max_reminders=1
    )
    first = _sent_invitation(campaign, days_ago=2)
    second = _sent_invitation(campaign, days_ago=2)
    real_send = transport.Connection.send

    def send_then_the_other_answers(self, rendered):
        real_send(self, rendered)
        Invitation.objects.filter(pk=second.pk).update(
            status=InvitationStatus.RESPONDED, responded_at=timezone.now()
        )

    monkeypatch.setattr(transport.Connection, "send", send_then_the_other_answers)
    result = campaigns.reminders_send()
    assert [m.to[0] for m in mailoutbox] == [first.contact.email]
    assert (result.sent, result.skipped) == (1, 1)
    second.refresh_from_db()
    assert second.reminders_sent == 0
    assert second.claimed_until is None


def test_reminders_skip_paused_and_cancelled_campaigns(org, mailoutbox):
    for status in (CampaignStatus.PAUSED, CampaignStatus.CANCELLED, CampaignStatus.DRAFT):
        campaign = CampaignFactory(organization=org, status=status, reminder_after_days=1)
        _sent_invitation(campaign, days_ago=5)
    campaigns.reminders_send()
    assert mailoutbox == []


def test_unanswered_invitations_expire_and_answered_ones_do_not(org):
    campaign = CampaignFactory(organization=org, status=CampaignStatus.SENT)
    past = timezone.now() - timedelta(minutes=1)
    stale = _sent_invitation(campaign, days_ago=40, expires_at=past)
    answered = _sent_invitation(
        campaign, days_ago=40, expires_at=past, status=InvitationStatus.RESPONDED
    )
    fresh = _sent_invitation(campaign, days_ago=1)
    assert campaigns.invitations_expire() == 1
    assert campaigns.invitations_expire() == 0
    assert Invitation.objects.get(pk=stale.pk).status == InvitationStatus.EXPIRED
    assert Invitation.objects.get(pk=answered.pk).status == InvitationStatus.RESPONDED
    assert Invitation.objects.get(pk=fresh.pk).status == InvitationStatus.SENT


def test_the_beat_tasks_run_the_services(org, mailoutbox, run_on_commit):
    from feedback.tasks import campaigns as campaign_tasks
    from feedback.tasks import delivery as delivery_tasks

    campaign = CampaignFactory(organization=org, status=CampaignStatus.SENDING)
    InvitationFactory(organization=org, campaign=campaign, survey=campaign.survey)
    run_on_commit(delivery_tasks.delivery_sweep)
    campaign_tasks.invitations_expire()
    campaign_tasks.reminders_send()
    campaign_tasks.campaigns_launch_due()
    assert len(mailoutbox) == 1


def test_the_audit_log_records_what_the_launch_queued_and_what_was_sent(
    org, admin, mailoutbox, run_on_commit
):
    from django.urls import reverse

    from cxplatform.models import AuditEvent

    now = timezone.now()
    ContactFactory.create_batch(2, organization=org)
    ContactFactory(organization=org, unsubscribed_at=now)
    ContactFactory(organization=org, last_surveyed_at=now - timedelta(days=2))
    campaign = CampaignFactory(organization=org, fatigue_days=30)
    run_on_commit(campaigns.campaign_launch, campaign=campaign, actor=SYSTEM)
    assert len(mailoutbox) == 2

    launched = AuditEvent.objects.get(action="campaign.launched")
    assert launched.changes["status"] == ["draft", "sending"]
    assert launched.changes["audience"] == 4
    assert launched.changes["to_send"] == 2
    assert launched.changes["left_out"] == {"fatigued": 1, "unsubscribed": 1}
    finished = AuditEvent.objects.get(action="campaign.finished")
    assert finished.changes["sent"] == 2
    assert finished.changes["status"] == ["sending", "sent"]

    page = admin.get(reverse("audit_log")).content.decode()
    assert "— → 4" not in page
    assert "to send:</span> 2" in page
    assert "left out:</span> fatigued 1, unsubscribed 1" in page
    assert "sent:</span> 2" in page
