"""Reminders go only to those who have not answered, even when answers arrive while the
reminder batch is being sent. Real worker, Redis, PostgreSQL and SMTP on loopback."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from cxplatform.services import SYSTEM
from feedback.models import Campaign, CampaignStatus, Invitation, InvitationStatus
from feedback.services import campaigns, outbox, responses
from feedback.tasks import campaigns as campaign_tasks
from tests.factories import OrganizationFactory
from tests.integration.delivery_support import SmtpSink, make_campaign, wait_until, worker_env

pytestmark = pytest.mark.integration


def _respond(invitations) -> None:
    """What recording a response does to its invitation (feedback.services.responses),
    for many at once: the answers that came in before the reminders."""
    Invitation.objects.filter(pk__in=[i.pk for i in invitations]).update(
        status=InvitationStatus.RESPONDED, responded_at=timezone.now()
    )


def _answer(invitations) -> None:
    """Customers answer, one after the other, through the real response service."""
    for invitation in invitations:
        questions = list(invitation.survey.questions.filter(archived_at__isnull=True))
        primary = next(q for q in questions if q.is_primary)
        responses.response_record(
            org=invitation.organization,
            survey=invitation.survey,
            questions=questions,
            answers=responses.answers_clean(questions, {primary.pk: 9}, require=False),
            channel="email",
            complete=True,
            invitation=invitation,
        )


def test_reminders_go_only_to_non_respondents_even_when_answers_arrive_mid_batch(start_worker):
    org = OrganizationFactory(slug="acme")
    campaign = make_campaign(org, eligible=200, reminder_after_days=3, max_reminders=1)
    sink = SmtpSink(delay=0.02).start()  # ~20 ms per message: answers land mid-batch
    try:
        worker = start_worker(concurrency=2, **worker_env(sink.url))
        campaigns.campaign_launch(campaign=campaign, actor=SYSTEM)
        wait_until(
            lambda: Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SENT,
            timeout=40,
            what="the first emails",
            workers=[worker],
        )
        assert sink.count() == 200
        invitations = list(
            Invitation.objects.filter(campaign=campaign)
            .select_related("survey", "organization", "contact")
            .order_by("pk")
        )
        # Four days later: 40 have answered, one opened the email without answering.
        Invitation.objects.filter(campaign=campaign).update(
            sent_at=timezone.now() - timedelta(days=4)
        )
        answered_before = invitations[:40]
        _respond(answered_before)
        Invitation.objects.filter(pk=invitations[40].pk).update(status=InvitationStatus.OPENED)

        first_reminder_at = time.time()
        campaign_tasks.reminders_send.delay()
        wait_until(
            lambda: sink.count() >= 230, timeout=30, what="the first reminders", workers=[worker]
        )
        # Answers arrive while the reminder batch is running.
        reminded = set(
            Invitation.objects.filter(campaign=campaign, reminders_sent=1).values_list(
                "pk", flat=True
            )
        )
        answering_now = [inv for inv in invitations[40:] if inv.pk not in reminded][-60:]
        _answer(answering_now)
        answered_at = time.time()

        wait_until(
            lambda: (
                not outbox.reminders_due(campaign, timezone.now()).exists()
                and not Invitation.objects.filter(
                    campaign=campaign, claimed_until__isnull=False
                ).exists()
            ),
            timeout=30,
            what="the reminder run to finish",
            workers=[worker],
        )
        time.sleep(1)
        # A second run finds nothing more to send: at most M = 1 reminder each.
        campaign_tasks.reminders_send.delay()
        time.sleep(2)
        reminders = [m for m in sink.messages()[200:] if ".r1@" in m.message_id]
    finally:
        sink.stop()

    assert len(reminders) == len(sink.messages()) - 200  # every later email is a reminder
    to = [m.to for m in reminders]
    assert len(to) == len(set(to))  # one reminder each, however many runs
    reminded_emails = set(to)
    assert not reminded_emails & {i.contact.email for i in answered_before}
    # Of those who answered mid-batch, a reminder went out only if the last check before
    # its send (a conditional UPDATE that needs "not answered") ran before the answer:
    # the database counted exactly those, and the sink saw nothing more.
    answering_emails = {i.contact.email for i in answering_now}
    counted_before_answer = set(
        Invitation.objects.filter(
            pk__in=[i.pk for i in answering_now], reminders_sent=1
        ).values_list("contact__email", flat=True)
    )
    assert reminded_emails & answering_emails == counted_before_answer
    assert all(m.mail_from_at < answered_at + 1.0 for m in reminders if m.to in answering_emails)
    prevented = answering_emails - reminded_emails
    assert len(prevented) >= 30, "the answers did not land mid-batch: slow the sink down"
    # Everyone else who did not answer got exactly one reminder, the one who opened too.
    others = {i.contact.email for i in invitations[40:]} - {i.contact.email for i in answering_now}
    assert others <= reminded_emails
    assert first_reminder_at < min(m.mail_from_at for m in reminders)
