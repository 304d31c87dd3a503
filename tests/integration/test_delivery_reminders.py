"""Reminders go only to those who have not answered, even when an answer arrives while
the reminder batch is being sent, and a worker killed during the reminder pass loses no
reminder. Real worker, Redis, PostgreSQL and SMTP on loopback."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from cxplatform.services import SYSTEM
from feedback.models import Campaign, CampaignStatus, Invitation, InvitationStatus
from feedback.services import campaigns, outbox, responses
from feedback.tasks import campaigns as campaign_tasks
from tests.factories import OrganizationFactory
from tests.integration.delivery_support import (
    Received,
    SmtpSink,
    make_campaign,
    wait_until,
    worker_env,
)

pytestmark = pytest.mark.integration


def _respond(invitations) -> None:
    """What recording a response does to its invitation (feedback.services.responses),
    for many at once: the answers that came in before the reminders."""
    Invitation.objects.filter(pk__in=[i.pk for i in invitations]).update(
        status=InvitationStatus.RESPONDED, responded_at=timezone.now()
    )


def _answer(invitation: Invitation) -> None:
    """A customer answers, through the real response service."""
    questions = list(invitation.survey.questions.filter(archived_at__isnull=True))
    primary = next(q for q in questions if q.is_primary)
    responses.response_record(
        responses.ResponseInput(
            org=invitation.organization,
            survey=invitation.survey,
            questions=questions,
            answers=responses.answers_clean(questions, {primary.pk: 9}, require=False),
            channel="email",
            complete=True,
            invitation=invitation,
        )
    )


def _is_reminder(message: Received) -> bool:
    return ".r1@" in message.message_id


def _sent_four_days_ago(campaign: Campaign, sink: SmtpSink, worker, eligible: int) -> list:
    """Launch, wait for every first email, then move the clock of the rows four days on."""
    campaigns.campaign_launch(campaign=campaign, actor=SYSTEM)
    wait_until(
        lambda: Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SENT,
        timeout=40,
        what="the first emails",
        workers=[worker],
    )
    assert sink.count() == eligible
    Invitation.objects.filter(campaign=campaign).update(sent_at=timezone.now() - timedelta(days=4))
    return list(
        Invitation.objects.filter(campaign=campaign)
        .select_related("survey", "organization", "contact")
        .order_by("pk")
    )


def _reminder_run_over(campaign: Campaign) -> bool:
    return (
        not outbox.reminders_due(campaign, timezone.now()).exists()
        and not Invitation.objects.filter(
            campaign=campaign, claimed_until__gt=timezone.now()
        ).exists()
    )


def test_reminders_go_only_to_non_respondents_even_when_answers_arrive_mid_batch(start_worker):
    org = OrganizationFactory(slug="acme")
    campaign = make_campaign(org, eligible=60, reminder_after_days=3, max_reminders=1)
    answered_mid_batch: list[int] = []
    reminders_seen = Counter()

    def a_later_contact_answers(received: Received) -> None:
        """On the 3rd and the 25th reminder (batches of 20): the last contact of the batch
        being sent, still waiting for their reminder, answers now, while the worker waits
        for this message's 250."""
        if not _is_reminder(received):
            return
        reminders_seen["n"] += 1
        if reminders_seen["n"] not in (3, 25):
            return
        try:
            current = Invitation.objects.get(campaign=campaign, contact__email=received.to)
            later = (
                Invitation.objects.filter(
                    campaign=campaign,
                    claimed_until=current.claimed_until,
                    reminders_sent=0,
                    responded_at__isnull=True,
                    pk__gt=current.pk,
                )
                .select_related("survey", "organization", "contact")
                .order_by("-pk")
                .first()
            )
            if later is not None:
                _answer(later)
                answered_mid_batch.append(later.pk)
        finally:
            connection.close()  # this thread's own connection

    sink = SmtpSink(on_message=a_later_contact_answers).start()
    try:
        worker = start_worker(concurrency=1, **worker_env(sink.url))
        invitations = _sent_four_days_ago(campaign, sink, worker, 60)
        # Four days later: 10 have answered, one opened the email without answering.
        answered_before = invitations[:10]
        _respond(answered_before)
        Invitation.objects.filter(pk=invitations[10].pk).update(status=InvitationStatus.OPENED)

        campaign_tasks.reminders_send.delay()
        wait_until(
            lambda: _reminder_run_over(campaign),
            timeout=30,
            what="the reminder run to finish",
            workers=[worker],
        )
        # A second run finds nothing more to send: at most M = 1 reminder each.
        campaign_tasks.reminders_send.delay()
        time.sleep(1.5)
        messages = sink.messages()
    finally:
        sink.stop()

    assert len(answered_mid_batch) == 2, "the hook did not answer inside two batches"
    reminders = [m for m in messages[60:] if _is_reminder(m)]
    assert len(reminders) == len(messages) - 60  # every later email is a reminder
    to = Counter(m.to for m in reminders)
    assert max(to.values()) == 1  # one reminder each, however many runs
    answered = {i.contact.email for i in answered_before} | {
        i.contact.email for i in invitations if i.pk in answered_mid_batch
    }
    assert not set(to) & answered
    assert set(to) == {i.contact.email for i in invitations} - answered
    assert set(
        Invitation.objects.filter(pk__in=answered_mid_batch).values_list(
            "reminders_sent", flat=True
        )
    ) == {0}


def test_a_worker_killed_during_the_reminder_pass_loses_no_reminder(start_worker):
    org = OrganizationFactory(slug="acme")
    eligible = 30
    campaign = make_campaign(org, eligible=eligible, reminder_after_days=3, max_reminders=1)
    # The 10th reminder (the 40th message) is held unanswered: the worker is killed while
    # it waits for the server's reply, so that reminder was never delivered.
    sink = SmtpSink(hold_at=eligible + 10).start()
    try:
        doomed = start_worker(concurrency=1, **worker_env(sink.url))
        invitations = _sent_four_days_ago(campaign, sink, doomed, eligible)
        campaign_tasks.reminders_send.delay()
        wait_until(sink.holding.is_set, timeout=30, what="the held reminder", workers=[doomed])
        doomed.kill()
        sink.release.set()
        assert sink.count() == eligible + 9

        survivor = start_worker(concurrency=1, **worker_env(sink.url))
        time.sleep(4.5)  # the dead worker's claims expire (CX_DELIVERY_LEASE_SECONDS = 4)
        campaign_tasks.reminders_send.delay()
        wait_until(
            lambda: _reminder_run_over(campaign),
            timeout=30,
            what="the reminders after the restart",
            workers=[survivor],
        )
        time.sleep(0.5)
        messages = sink.messages()
    finally:
        sink.stop()
    reminded = Counter(m.to for m in messages if _is_reminder(m))
    assert set(reminded) == {i.contact.email for i in invitations}  # none lost
    assert max(reminded.values()) == 1
    assert set(
        Invitation.objects.filter(campaign=campaign).values_list("reminders_sent", flat=True)
    ) == {1}
