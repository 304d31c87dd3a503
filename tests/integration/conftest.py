"""Real processes for the integration tests: a Celery worker on the local Redis, writing
to the same PostgreSQL test database as the test (so tests use ``transactional_db``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import kombu.pools
import pytest
from django.db import connection

from cxplatform.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    s = connection.settings_dict
    host = s.get("HOST") or "127.0.0.1"
    port = s.get("PORT") or 5432
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{s.get('USER') or 'postgres'}{password}@{host}:{port}/{s['NAME']}"


class Worker:
    """A ``celery worker`` process. ``kill()`` sends SIGKILL, as a crash would."""

    def __init__(self, *, queue: str, broker: str, extra_env: dict[str, str], log: Path) -> None:
        self.queue, self.broker, self.extra_env, self.log = queue, broker, extra_env, log
        self.proc: subprocess.Popen | None = None

    def start(self, concurrency: int = 1) -> Worker:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "cxplatform.settings",
            "DEBUG": "true",
            "DATABASE_URL": database_url(),
            "REDIS_URL": self.broker,
            "CELERY_QUEUE": self.queue,
            "EMAIL_URL": "",
            **self.extra_env,
        }
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "cxplatform",
                "worker",
                "-Q",
                self.queue,
                "-n",
                f"{self.queue}-{uuid.uuid4().hex[:6]}@%h",
                "--concurrency",
                str(concurrency),
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


class BeatProcess(Worker):
    """A real ``celery beat`` process publishing the schedule of the settings (shortened
    by environment variables) to this test's queue."""

    def start(self, concurrency: int = 1) -> BeatProcess:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "cxplatform.settings",
            "DEBUG": "true",
            "DATABASE_URL": database_url(),
            "REDIS_URL": self.broker,
            "CELERY_QUEUE": self.queue,
            **self.extra_env,
        }
        schedule = self.log.with_suffix(".schedule")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "cxplatform",
                "beat",
                "--schedule",
                str(schedule),
                "--pidfile",
                "",
                "--max-interval",
                "1",
                "--loglevel",
                "INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self


def wait_for(predicate, *, timeout: float, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def broker(redis_url: str, require_postgres: None, transactional_db: None) -> Iterator[str]:
    """Point this process's Celery at Redis on a queue of its own, for one test."""
    queue = f"cx-test-{uuid.uuid4().hex[:10]}"
    conf = celery_app.conf
    saved = {k: conf[k] for k in ("task_always_eager", "broker_url", "task_default_queue")}
    conf.update(task_always_eager=False, broker_url=redis_url, task_default_queue=queue)
    celery_app.__dict__.pop("amqp", None)  # routing is cached from the old queue name
    celery_app._pool = None
    kombu.pools.reset()  # kombu keeps producer pools per broker URL, across tests
    yield queue
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
    celery_app._pool = None
    kombu.pools.reset()  # else the next test's producer reuses this closed pool
    conf.update(saved)
    celery_app.__dict__.pop("amqp", None)
    import redis

    redis.Redis.from_url(redis_url).delete(queue)


@pytest.fixture
def start_worker(broker: str, redis_url: str, tmp_path: Path) -> Iterator:
    """``start_worker(**env)`` starts a real worker on this test's queue; all stop at the end."""
    workers: list[Worker] = []

    def start(concurrency: int = 1, **extra_env: str) -> Worker:
        log = tmp_path / f"worker-{len(workers)}.log"
        worker = Worker(queue=broker, broker=redis_url, extra_env=extra_env, log=log)
        workers.append(worker.start(concurrency))
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def start_beat(broker: str, redis_url: str, tmp_path: Path) -> Iterator:
    """``start_beat(**env)`` starts a real ``celery beat`` on this test's queue."""
    beats: list[BeatProcess] = []

    def start(**extra_env: str) -> BeatProcess:
        log = tmp_path / f"beat-{len(beats)}.log"
        beat = BeatProcess(queue=broker, broker=redis_url, extra_env=extra_env, log=log)
        beats.append(beat.start())
        return beat

    yield start
    for beat in beats:
        beat.stop()
