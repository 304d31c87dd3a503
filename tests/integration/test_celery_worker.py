"""A real ``celery worker`` process, on the local Redis, writes to the local PostgreSQL."""

from __future__ import annotations

import pytest

from cxplatform import tasks
from cxplatform.models import WorkerHeartbeat
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration


def test_a_real_worker_runs_a_task_that_writes_to_postgresql(start_worker):
    worker = start_worker()
    tasks.heartbeat.delay("integration-check")

    beat = wait_for(
        lambda: WorkerHeartbeat.objects.filter(worker="integration-check").first(),
        timeout=60,
        what=f"the worker to record its heartbeat; worker log:\n{worker.output()}",
    )
    assert beat.tasks_seen == 1

    tasks.heartbeat.delay("integration-check")
    wait_for(
        lambda: WorkerHeartbeat.objects.get(worker="integration-check").tasks_seen == 2,
        timeout=30,
        what="the second heartbeat",
    )


def test_the_integration_tests_publish_to_redis_and_run_nothing_in_process(broker, redis_url):
    """The unit tests run tasks in-process (eager, see docs/testing.md); here nothing may:
    a task enqueued with no worker running stays a message in Redis, and nothing ran."""
    import redis

    from cxplatform import queue

    queue.send_now("cxplatform.tasks.heartbeat", ("in-process?",))
    assert not WorkerHeartbeat.objects.filter(worker="in-process?").exists()
    assert redis.Redis.from_url(redis_url).llen(broker) == 1
