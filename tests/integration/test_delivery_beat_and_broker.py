"""The processes around delivery: a real ``celery beat`` launches a scheduled campaign
and runs the sweep; a launch while Redis is unreachable answers at once and loses
nothing. Real worker, Redis, PostgreSQL and SMTP on loopback."""

from __future__ import annotations

import logging
import time
from collections import Counter
from datetime import timedelta

import kombu.pools
import pytest
from django.utils import timezone

from cxplatform.celery import app as celery_app
from cxplatform.services import SYSTEM
from feedback.models import Campaign, CampaignStatus, Invitation, InvitationStatus
from feedback.services import campaigns
from tests.factories import OrganizationFactory
from tests.integration.delivery_support import (
    Beat,
    SmtpSink,
    free_port,
    make_campaign,
    wait_until,
    worker_env,
)

pytestmark = pytest.mark.integration


def _point_celery_at(url: str) -> None:
    celery_app.conf.broker_url = url
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
    celery_app._pool = None
    celery_app.__dict__.pop("amqp", None)  # it caches its producer pool
    kombu.pools.reset()


def test_a_real_beat_launches_a_scheduled_campaign_and_runs_the_sweep(start_worker, start_beat):
    org = OrganizationFactory(slug="acme")
    campaign = make_campaign(org, eligible=10, send_at=timezone.now() + timedelta(seconds=3))
    campaigns.campaign_launch(campaign=campaign, actor=SYSTEM)
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SCHEDULED
    sink = SmtpSink().start()
    try:
        worker = start_worker(concurrency=1, **worker_env(sink.url))
        beat = start_beat(CX_CAMPAIGNS_LAUNCH_DUE_SECONDS="1", CX_DELIVERY_SWEEP_SECONDS="1")
        wait_until(
            lambda: Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SENT,
            timeout=30,
            what="beat to launch the campaign and the worker to send it",
            workers=[worker, beat],
        )
        wait_until(
            lambda: "feedback.tasks.delivery.delivery_sweep" in beat.output(),
            timeout=10,
            what="beat to send the sweep",
            workers=[beat],
        )
        received = sink.messages()
    finally:
        sink.stop()
    assert Campaign.objects.get(pk=campaign.pk).launched_at >= campaign.send_at
    recipients = Counter(m.to for m in received)
    assert set(recipients) == {f"person{i}@example.com" for i in range(10)}
    assert max(recipients.values()) == 1
    assert "feedback.tasks.campaigns.campaigns_launch_due" in beat.output()


def test_launching_while_redis_is_unreachable_answers_at_once_and_the_sweep_sends_later(
    start_worker, redis_url, api_client_for, caplog
):
    org = OrganizationFactory(slug="acme")
    campaign = make_campaign(org, eligible=20)
    api = api_client_for(org)
    _point_celery_at(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    try:
        started = time.monotonic()
        with caplog.at_level(logging.ERROR, logger="cxplatform.queue"):
            response = api.post(f"/api/v1/campaigns/{campaign.pk}/launch/")
        elapsed = time.monotonic() - started
    finally:
        _point_celery_at(redis_url)
    assert response.status_code == 200, response.content
    assert elapsed < 3.0, f"the launch request waited {elapsed:.1f}s for the broker"
    assert "could not enqueue feedback.tasks.delivery.delivery_pass" in caplog.text
    rows = Invitation.objects.filter(campaign=campaign)
    assert rows.count() == 20
    assert set(rows.values_list("status", flat=True)) == {InvitationStatus.PENDING}

    # Redis is back: no message says "look now", the sweep finds the rows.
    sink = SmtpSink().start()
    try:
        worker = start_worker(concurrency=1, **worker_env(sink.url))
        with Beat(every=0.5):
            wait_until(
                lambda: Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SENT,
                timeout=30,
                what="the sweep to send the campaign",
                workers=[worker],
            )
        received = sink.messages()
    finally:
        sink.stop()
    recipients = Counter(m.to for m in received)
    assert len(recipients) == 20
    assert max(recipients.values()) == 1
