"""Campaign delivery at scale: a real Celery worker sends a campaign to an SMTP sink.

What it does, by itself, bounded in time (a few minutes):

1. creates its own PostgreSQL database (``<DATABASE_URL>/cx_bench_send``; default server
   postgres://postgres@127.0.0.1:5432/), migrates it, and seeds ``--contacts`` contacts, an
   NPS survey and a campaign to all of them;
2. starts an SMTP sink on a free loopback port (aiosmtpd, in a process of its own, that only
   counts messages and their Message-IDs) and a real ``celery worker`` (prefork,
   ``--concurrency``) on the local Redis with a queue of its own, sending to the sink;
3. launches the campaign (materialising the invitations is timed apart) and measures the
   delivery from the launch's commit until every invitation is marked sent;
4. the floor, in the same run: a bare ``smtplib`` loop sending ``--sample`` of the same
   rendered messages (pre-rendered, as bytes) over one connection to a fresh sink;
5. reads the worker's peak memory (VmHWM of its processes, from /proc) before stopping
   it, stops the worker and the sinks by their pids, drops the queue and the database.

It prints a readable report and, as its LAST line, one JSON object:
``{"emails_per_s", "smtplib_per_s", "ratio", "worker_peak_mb", "sent", "lost", "duplicates"}``.
Targets: at least 500 emails/s, a ratio of at least 0.5, the worker under 300 MB.

    .venv/bin/python bench/send.py [--contacts 100000] [--sample 10000] [--concurrency 2]
"""

from __future__ import annotations

import argparse
import email.policy
import json
import os
import re
import secrets
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
DB_NAME = "cx_bench_send"
SMTP_POLICY = email.policy.SMTP  # what Django's SMTP backend sends
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


# --- the SMTP sink (run as: send.py --sink PORT STATS_FILE) ------------------------------

MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)


def run_sink(port: int, stats_file: str) -> None:
    """Accept everything, count messages and distinct Message-IDs; on SIGTERM write them."""
    from aiosmtpd.controller import Controller

    ids: set[bytes] = set()
    counts = {"received": 0}

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            counts["received"] += 1
            found = MESSAGE_ID.search(envelope.content[:4096])
            ids.add(found.group(1) if found else secrets.token_bytes(8))
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    Path(stats_file + ".ready").write_text("1")

    def stop(*_):
        controller.stop()
        Path(stats_file).write_text(
            json.dumps({"received": counts["received"], "unique": len(ids)})
        )
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    while True:
        signal.pause()


class Sink:
    def __init__(self, tmp: Path, name: str) -> None:
        self.port = free_port()
        self.stats = tmp / f"{name}.json"
        self.proc = subprocess.Popen(
            [PYTHON, __file__, "--sink", str(self.port), str(self.stats)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while not Path(str(self.stats) + ".ready").exists():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise SystemExit("the SMTP sink did not start")
            time.sleep(0.05)

    def stop(self) -> dict:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(30)
        return json.loads(self.stats.read_text()) if self.stats.exists() else {}


# --- helpers -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_urls() -> tuple[str, str]:
    """(server URL on the maintenance db, URL of the bench's own database)."""
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/")
    parts = urllib.parse.urlsplit(base)
    if not parts.scheme.startswith("postgres"):
        base, parts = (
            "postgres://postgres@127.0.0.1:5432/",
            urllib.parse.urlsplit("postgres://postgres@127.0.0.1:5432/"),
        )
    server = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    own = urllib.parse.urlunsplit(parts._replace(path=f"/{DB_NAME}"))
    return server, own


def recreate_database(server_url: str) -> None:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def drop_database(server_url: str) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (from /proc, no psutil)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def pss_mb(pids: list[int]) -> float:
    """The processes' proportional set size, summed, in MB: pages shared between the
    prefork parent and its children counted once (VmHWM counts them in every process)."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def peak_mb(pids: list[int]) -> dict[int, float]:
    """VmHWM (peak resident set) of each process, in MB."""
    peaks = {}
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks[pid] = int(line.split()[1]) / 1024
        except OSError:
            continue
    return peaks


def log(text: str) -> None:
    print(text, flush=True)


# --- the bench ---------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--pool", choices=["prefork", "threads"], default="prefork")
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=420.0, help="cap on the delivery phase")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    server_url, db_url = database_urls()
    queue = f"cx-bench-send-{uuid.uuid4().hex[:8]}"
    site_url = "http://127.0.0.1:8204"
    secret = secrets.token_urlsafe(40)
    common_env = {
        "DJANGO_SETTINGS_MODULE": "cxplatform.settings",
        "DATABASE_URL": db_url,
        "REDIS_URL": REDIS_URL,
        "CELERY_QUEUE": queue,
        "SITE_URL": site_url,
        "DEBUG": "false",
        "SECRET_KEY": secret,
        "CONN_MAX_AGE": "600",
        "LOG_LEVEL": "WARNING",
        "CX_DELIVERY_BATCH_SIZE": str(args.batch),
        "CX_DELIVERY_PARALLEL": str(args.concurrency),
        "CX_DELIVERY_PASS_SECONDS": "600",
        # Materialise in this process (timed apart), not in the worker being measured.
        "CX_CAMPAIGN_INLINE_LAUNCH_MAX": str(10 * args.contacts),
    }
    os.environ.update(common_env)
    os.environ.pop("EMAIL_URL", None)
    sys.path.insert(0, str(ROOT))

    log(f"Database {DB_NAME}: creating and migrating…")
    recreate_database(server_url)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from cxplatform import services as core
    from feedback.models import Campaign, Contact, Invitation, InvitationStatus, Question, Survey
    from feedback.services import campaigns
    from feedback.services import email as email_render

    org = core.organization_create(slug="bench", name="Bench Inc")
    survey = Survey.objects.create(
        organization=org, name="Bench NPS", kind="nps", status="active", title="How did we do?"
    )
    Question.objects.create(
        organization=org,
        survey=survey,
        type="nps",
        is_primary=True,
        required=True,
        text="How likely are you to recommend Bench Inc to a friend or colleague?",
        low_label="Not at all likely",
        high_label="Extremely likely",
    )
    t = time.perf_counter()
    for start in range(0, args.contacts, 10_000):
        Contact.objects.bulk_create(
            Contact(organization=org, email=f"c{i}@bench.example", name=f"Customer {i}")
            for i in range(start, min(args.contacts, start + 10_000))
        )
    log(f"Seeded {args.contacts} contacts in {time.perf_counter() - t:.1f}s")
    campaign = Campaign.objects.create(organization=org, name="Bench campaign", survey=survey)

    tmp = Path(tempfile.mkdtemp(prefix="cx-bench-send-"))
    sink = Sink(tmp, "campaign-sink")
    worker_log = tmp / "worker.log"
    worker_env = {
        **os.environ,
        **common_env,
        "EMAIL_URL": f"smtp://127.0.0.1:{sink.port}",
    }
    worker = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "celery",
            "-A",
            "cxplatform",
            "worker",
            "-Q",
            queue,
            "-n",
            f"{queue}@%h",
            "--pool",
            args.pool,
            "--concurrency",
            str(args.concurrency),
            "--prefetch-multiplier",
            "1",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=worker_env,
        stdout=worker_log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    result: dict = {}
    try:
        time.sleep(3)  # let the worker connect (its tasks would wait in the queue anyway)
        if worker.poll() is not None:
            raise SystemExit(f"the worker died:\n{worker_log.read_text()[-3000:]}")

        log(f"Launching the campaign to {args.contacts} contacts…")
        t_launch = time.perf_counter()
        campaigns.campaign_launch(campaign=campaign, actor=core.SYSTEM)
        t0 = time.perf_counter()  # the kicks went out at the launch's commit
        log(f"Materialised {args.contacts} invitations in {t0 - t_launch:.1f}s; sending…")

        sent_qs = Invitation.objects.filter(campaign=campaign, status=InvitationStatus.SENT)
        worker_pids: list[int] = []
        peaks: dict[int, float] = {}
        pss_peak = 0.0
        sent = 0
        last_report = t0
        while True:
            sent = sent_qs.count()
            now = time.perf_counter()
            worker_pids = process_tree(worker.pid)
            peaks.update(peak_mb(worker_pids))
            pss_peak = max(pss_peak, pss_mb(worker_pids))
            if sent >= args.contacts:
                break
            if now - t0 > args.timeout:
                log(f"Timed out after {args.timeout:.0f}s with {sent} sent")
                break
            if worker.poll() is not None:
                log("The worker died")
                break
            if now - last_report > 10:
                log(f"  {sent} sent, {sent / (now - t0):.0f}/s")
                last_report = now
            time.sleep(0.2)
        elapsed = time.perf_counter() - t0
        peaks.update(peak_mb(process_tree(worker.pid)))
        emails_per_s = sent / elapsed if elapsed else 0.0
        log(f"Worker: {sent} sent in {elapsed:.1f}s = {emails_per_s:.0f} emails/s")

        # Stop the worker and the sink; what arrived, and how many were duplicates.
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(60)
        campaign_stats = sink.stop()
        received = campaign_stats.get("received", 0)
        unique = campaign_stats.get("unique", 0)
        lost = args.contacts - unique
        duplicates = received - unique
        log(f"Sink: {received} received, {unique} distinct Message-IDs")

        # The floor: the same rendered messages through a bare smtplib loop.
        sample = list(
            Invitation.objects.filter(campaign=campaign)
            .select_related(
                "contact", "campaign__touchpoint", "survey", "touchpoint", "organization"
            )
            .order_by("pk")[: args.sample]
        )
        rendered = []
        for invitation in sample:
            message = email_render.render_invitation(invitation).message()
            rendered.append(
                (message.from_email, message.to, message.message(policy=SMTP_POLICY).as_bytes())
            )
        floor_sink = Sink(tmp, "floor-sink")
        from_addr = "feedback@cx.example"
        t = time.perf_counter()
        smtp = smtplib.SMTP("127.0.0.1", floor_sink.port, local_hostname="localhost")
        for _, to, data in rendered:
            smtp.sendmail(from_addr, to, data)
        smtp.quit()
        floor_elapsed = time.perf_counter() - t
        floor_stats = floor_sink.stop()
        smtplib_per_s = len(rendered) / floor_elapsed
        log(
            f"Bare smtplib loop: {len(rendered)} messages in {floor_elapsed:.1f}s = "
            f"{smtplib_per_s:.0f} emails/s (sink received {floor_stats.get('received')})"
        )
        total_peak = sum(peaks.get(pid, 0.0) for pid in worker_pids)
        largest = max(peaks.values()) if peaks else 0.0
        log(
            f"Worker peak memory (VmHWM): {total_peak:.0f} MB over {len(worker_pids)} processes "
            f"(largest {largest:.0f} MB; each: "
            + ", ".join(f"{peaks.get(pid, 0):.0f}" for pid in worker_pids)
            + f"); peak PSS, shared pages counted once: {pss_peak:.0f} MB"
        )
        ratio = emails_per_s / smtplib_per_s if smtplib_per_s else 0.0
        log(
            f"Ratio worker / bare smtplib: {ratio:.2f}  (targets: ≥ 500 emails/s, ratio ≥ 0.5, "
            f"peak < 300 MB)"
        )
        result = {
            "emails_per_s": round(emails_per_s, 1),
            "smtplib_per_s": round(smtplib_per_s, 1),
            "ratio": round(ratio, 3),
            "worker_peak_mb": round(total_peak, 1),
            "sent": sent,
            "lost": lost,
            "duplicates": duplicates,
        }
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)
        sink.stop()
        try:
            import redis

            redis.Redis.from_url(REDIS_URL).delete(queue)
        except Exception as exc:  # the figures matter more than the cleanup
            log(f"(could not delete the queue: {exc})")
        if not args.keep:
            drop_database(server_url)
    print(json.dumps(result))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--sink":
        run_sink(int(sys.argv[2]), sys.argv[3])
    else:
        main()
