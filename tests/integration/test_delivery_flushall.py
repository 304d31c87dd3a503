"""The broker may forget everything: ``FLUSHALL`` mid-campaign (every queued and unacked
message gone) still ends with every email delivered, because the invitation rows are the
outbox and the beat sweep re-enqueues what is claimable.

FLUSHALL empties the whole Redis server, so this test runs its own ``redis-server`` on a
free port rather than flush the shared one other tests (and people) are using.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Iterator

import pytest
import redis

from cxplatform.services import SYSTEM
from feedback.models import Campaign, CampaignStatus, Invitation, InvitationStatus
from feedback.services import campaigns
from tests.conftest import need, port_open
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


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private Redis server for this module (overrides the shared one)."""
    server = shutil.which("redis-server")
    need(server is not None, "redis-server is not installed")
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not port_open("127.0.0.1", port):
            assert time.monotonic() < deadline, "the private redis-server did not start"
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


def _sent(campaign) -> int:
    return Invitation.objects.filter(campaign=campaign, status=InvitationStatus.SENT).count()


def test_flushing_redis_mid_campaign_still_ends_with_every_email_delivered(start_worker, redis_url):
    org = OrganizationFactory(slug="acme")
    campaign = make_campaign(org, eligible=300)
    sink = SmtpSink(delay=0.01).start()
    flush = redis.Redis.from_url(redis_url).flushall
    try:
        worker = start_worker(concurrency=2, **worker_env(sink.url, CX_DELIVERY_PASS_SECONDS="2"))
        campaigns.campaign_launch(campaign=campaign, actor=SYSTEM)
        wait_until(lambda: _sent(campaign) >= 40, timeout=40, what="40 emails", workers=[worker])
        flush()  # while passes run and hand on to each other

        # Now make the flush cost the only "look now" messages there are: stop the passes
        # (pause) and the worker, resume (which enqueues passes), flush, start a worker.
        campaigns.campaign_pause(campaign=campaign, actor=SYSTEM)
        wait_until(
            lambda: (
                not Invitation.objects.filter(
                    campaign=campaign, claimed_until__isnull=False
                ).exists()
            ),
            timeout=20,
            what="the running passes to stop at the pause",
            workers=[worker],
        )
        worker.stop()
        campaigns.campaign_resume(campaign=campaign, actor=SYSTEM)
        assert redis.Redis.from_url(redis_url).llen(worker.queue) > 0
        flush()
        worker = start_worker(concurrency=2, **worker_env(sink.url))
        sent_at_flush = _sent(campaign)
        assert sent_at_flush < 300, "the campaign finished before the flush: make it bigger"
        time.sleep(2)
        assert _sent(campaign) == sent_at_flush  # the kicks are gone: nothing moves...

        with Beat(every=1.0) as beat:  # ...until beat's sweep looks at the rows
            wait_until(
                lambda: Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SENT,
                timeout=40,
                what=f"every email after FLUSHALL (beat errors: {beat.errors[:3]})",
                workers=[worker],
            )
        received = sink.messages()
    finally:
        sink.stop()
    recipients = Counter(m.to for m in received)
    assert set(recipients) == {f"person{i}@example.com" for i in range(300)}
    assert max(recipients.values()) == 1  # nobody crashed: a flush alone duplicates nothing
