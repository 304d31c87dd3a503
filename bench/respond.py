"""Survey submission over HTTP against its floor: gunicorn on loopback, PostgreSQL.

What it does, by itself, bounded in time (a minute or two):

1. creates its own PostgreSQL database (``<DATABASE_URL>/cx_bench_respond``; default server
   postgres://postgres@127.0.0.1:5432/), migrates it, and seeds an NPS survey with two sets
   of invitations (one per contender), each with its own link;
2. starts gunicorn (``--workers`` sync workers, ``--no-control-socket``) on a free loopback
   port with production-like settings (DEBUG off, persistent database connections), and,
   when Redis answers, a real broker queue of its own so the after-response work is only
   signalled, as in production (no worker drains it: the figure is the request path);
3. two contenders, same gunicorn workers, same database, same client, in paired rounds
   (alternating which goes first):
   - **the respondent page**: the form's POST with a score and a comment,
     ``_action=submit``, one complete submission per link; a 302 is a success;
   - **the floor**: a minimal Django view (same settings and middleware) that does the
     same work by hand: look the invitation up by token, insert the response under its
     unique key, answer 302;
4. measures the CPU each request costs the gunicorn workers and the PostgreSQL backends
   (from /proc), per contender: it holds even when other processes share the cores;
5. checks in the database that every success left exactly one completed response, stops
   gunicorn by its pid, drops the queue and the database.

It prints a readable report, and as its LAST line one JSON object:
``{"responses_per_s", "p50_ms", "p99_ms", "requests", "errors", "floor_per_s", "cpu_ms",
"floor_cpu_ms"}``. Targets (issue 12): server CPU per submission at most 1.3x the floor's,
throughput at least 0.8x the floor's, p99 under 150 ms, zero errors.

    .venv/bin/python bench/respond.py [--requests 3000] [--clients 16] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from support import pgserver  # bench/support/pgserver.py

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
DB_NAME = "cx_bench_respond"

SEED = """
import json, secrets, sys
from django.utils import timezone
from cxplatform import services as core
from feedback.models import Contact, Invitation
from feedback.services import surveys

n = 2 * int(sys.argv[-1])  # one set of links per contender
org = core.organization_create(slug="bench", name="Bench Inc")
survey = surveys.survey_create_from_template(org=org, actor=core.SYSTEM, kind="nps", status="active")
questions = list(survey.questions.order_by("position"))
contacts = Contact.objects.bulk_create(
    Contact(organization=org, email=f"c{i}@bench.example", locale="en") for i in range(n)
)
now = timezone.now()
expires = now + timezone.timedelta(days=30)
sent = now - timezone.timedelta(hours=1)
tokens = [f"{org.pk}.{secrets.token_urlsafe(32)}" for _ in range(n)]  # see feedback.tokens
Invitation.objects.bulk_create(
    Invitation(organization=org, contact=c, survey=survey, token=t, status="sent",
               sent_at=sent, expires_at=expires)
    for c, t in zip(contacts, tokens)
)
print(json.dumps({"tokens": tokens, "primary": questions[0].pk, "comment": questions[1].pk}))
"""

COMMENTS = [
    "Fast delivery and friendly staff, thank you!",
    "The checkout was confusing and support took too long to answer.",
    "Good overall.",
    "",
]


def base_url() -> str:
    return pgserver.base_url("bench/respond.py")


def admin_sql(statement: str) -> None:
    pgserver.admin_sql("bench/respond.py", statement)


def backend_pids() -> list[int]:
    """The PostgreSQL server processes serving the bench database (persistent connections)."""
    with pgserver.connect("bench/respond.py") as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", [DB_NAME]
        ).fetchall()
    return [pid for (pid,) in rows]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of processes on this machine (0 for those not visible here)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


# The floor: the same Django settings and middleware, one more URL with a view that does the
# submission's essential work by hand (one SELECT by token within the organization the
# token names, one INSERT under the unique key).
FLOOR_URLS = """
from django.db import IntegrityError
from django.http import Http404, HttpResponseRedirect
from django.urls import include, path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from feedback import tokens
from feedback.models import Invitation, Response


@csrf_exempt
def floor(request, token):
    row = Invitation.objects.filter(**tokens.lookup(token)).values_list(
        "pk", "organization_id", "survey_id", "contact_id"
    ).first()
    if row is None:
        raise Http404
    pk, org_id, survey_id, contact_id = row
    now = timezone.now()
    try:
        Response.objects.create(
            organization_id=org_id, invitation_id=pk, survey_id=survey_id,
            contact_id=contact_id, channel="web", primary_type="nps",
            primary_score=int(request.POST.get("score", "0")), completed=True,
            submitted_at=now, started_at=now,
        )
    except IntegrityError:
        pass
    return HttpResponseRedirect("/thanks/")


urlpatterns = [path("floor/<str:token>/", floor), path("", include("cxplatform.urls"))]
"""

FLOOR_SETTINGS = """
from cxplatform.settings import *  # noqa

ROOT_URLCONF = "bench_floor_urls"
"""


def start_gunicorn(
    app: str, port: int, workers: int, env: dict[str, str], cwd: Path
) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "gunicorn",
            app,
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--no-control-socket",
            "--backlog",
            "1024",
            "--log-level",
            "warning",
        ],
        cwd=cwd,
        env=env,
        start_new_session=True,
    )
    wait_for_port(port, proc)
    return proc


def stop_gunicorn(proc: subprocess.Popen | None) -> None:
    if proc is not None and proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_ok(url: str) -> bool:
    parsed = urllib.parse.urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 6379), timeout=1):
            return True
    except OSError:
        return False


def run(args: list[str], env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=ROOT, env=env, check=True, **kwargs)


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit("gunicorn exited early; see its output above")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    sys.exit("gunicorn did not start listening in time")


# ---------------------------------------------------------------------------- the client


def request_bytes(path: str, body: bytes) -> bytes:
    """The form's POST, as a browser sends it, encoded once before the clock starts."""
    head = (
        f"POST {path} HTTP/1.1\r\n"
        "Host: 127.0.0.1\r\n"
        "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body


def submit(port: int, payload: bytes) -> tuple[float, int]:
    """One submission on a new connection (each respondent is a new visitor). A bare
    socket keeps the client's own CPU small: it shares the machine with the server."""
    started = time.perf_counter()
    status = 0
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
            conn.sendall(payload)
            received = b""
            while chunk := conn.recv(65536):
                received += chunk
        if received.startswith(b"HTTP/1.") and len(received) >= 12:
            status = int(received[9:12])
    except (OSError, ValueError):
        status = 0
    return (time.perf_counter() - started) * 1000, status


def client_process(port: int, jobs: list[bytes], threads: int, queue) -> None:
    results: list[tuple[float, int]] = []
    lock = threading.Lock()
    index = iter(range(len(jobs)))

    def work() -> None:
        while True:
            with lock:
                i = next(index, None)
            if i is None:
                return
            result = submit(port, jobs[i])
            with lock:
                results.append(result)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    queue.put(results)


def fire(port: int, jobs: list[bytes], clients: int) -> tuple[list, float, float]:
    processes = 2
    per_process = [jobs[i::processes] for i in range(processes)]
    queue = multiprocessing.get_context("fork").Queue()
    procs = [
        multiprocessing.get_context("fork").Process(
            target=client_process, args=(port, chunk, max(1, clients // processes), queue)
        )
        for chunk in per_process
    ]
    children_cpu = _children_cpu()
    started = time.perf_counter()
    for p in procs:
        p.start()
    results = []
    for _ in procs:
        results.extend(queue.get())
    elapsed = time.perf_counter() - started
    for p in procs:
        p.join()
    return results, elapsed, _children_cpu() - children_cpu


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


@dataclass
class Contender:
    name: str
    jobs: list[bytes]
    results: list[tuple[float, int]] = field(default_factory=list)
    elapsed: float = 0.0
    cpu_web: float = 0.0
    cpu_db: float = 0.0

    @property
    def ok(self) -> list[float]:
        return [ms for ms, status in self.results if status == 302]

    @property
    def errors(self) -> int:
        return len(self.results) - len(self.ok)

    @property
    def rate(self) -> float:
        return len(self.ok) / self.elapsed if self.elapsed else 0.0

    @property
    def cpu_ms(self) -> float:
        return (self.cpu_web + self.cpu_db) * 1000 / max(1, len(self.ok))


def measure(contender: Contender, jobs: list[bytes], port: int, clients: int, pids) -> None:
    workers, backends = pids()
    web, db = cpu_seconds(workers), cpu_seconds(backends)
    results, elapsed, _ = fire(port, jobs, clients)
    contender.cpu_web += cpu_seconds(workers) - web
    contender.cpu_db += cpu_seconds(backends) - db
    contender.results += results
    contender.elapsed += elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="per contender")
    parser.add_argument("--clients", type=int, default=16, help="concurrent connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--rounds", type=int, default=4, help="paired rounds")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--keep-db", action="store_true", help="leave the database for a look")
    args = parser.parse_args()
    args.requests = max(args.rounds, min(args.requests, 20000))  # bounded

    database_url = base_url() + DB_NAME
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    queue_name = f"cx-bench-{secrets.token_hex(4)}"
    use_redis = redis_ok(redis_url)
    floor_dir = tempfile.mkdtemp(prefix="cx-bench-floor-")
    Path(floor_dir, "bench_floor_urls.py").write_text(FLOOR_URLS)
    Path(floor_dir, "bench_floor_settings.py").write_text(FLOOR_SETTINGS)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench_floor_settings",
        "PYTHONPATH": os.pathsep.join([floor_dir, str(ROOT)]),
        "DATABASE_URL": database_url,
        "CONN_MAX_AGE": "60",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "REDIS_URL": redis_url if use_redis else "",
        "CELERY_QUEUE": queue_name,
        "EMAIL_URL": "smtp://127.0.0.1:1",  # never used: nothing is sent
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
        "PYTHONWARNINGS": "ignore",  # e.g. whitenoise: no collected static files (none served)
    }
    total = args.requests + args.warmup
    print(f"Preparing database {DB_NAME} with 2 × {total} invitations…", flush=True)
    admin_sql(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    admin_sql(f'CREATE DATABASE "{DB_NAME}"')
    gunicorn = None
    try:
        run([PYTHON, "manage.py", "migrate", "--no-input", "-v0"], env)
        with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as script:
            script.write(SEED)
        seeded = run(
            [
                PYTHON,
                "manage.py",
                "shell",
                "-c",
                f"import sys; sys.argv.append('{total}'); exec(open('{script.name}').read())",
            ],
            env,
            capture_output=True,
            text=True,
        )
        os.unlink(script.name)
        seed = json.loads(seeded.stdout.strip().splitlines()[-1])
        tokens = seed["tokens"]
        page_jobs, floor_jobs = [], []
        for i, token in enumerate(tokens[:total]):
            body = urllib.parse.urlencode(
                {
                    f"q{seed['primary']}": str(i % 11),
                    f"q{seed['comment']}": COMMENTS[i % len(COMMENTS)],
                    "_action": "submit",
                }
            ).encode()
            page_jobs.append(request_bytes(f"/s/{token}/", body))
        for i, token in enumerate(tokens[total:]):
            body = urllib.parse.urlencode({"score": str(i % 11)}).encode()
            floor_jobs.append(request_bytes(f"/floor/{token}/", body))

        port = free_port()
        gunicorn = start_gunicorn("cxplatform.wsgi", port, args.workers, env, ROOT)
        print(
            f"gunicorn pid {gunicorn.pid} on 127.0.0.1:{port}, {args.workers} workers; "
            f"after-response signal: {'Redis ' + queue_name if use_redis else 'in-process (no Redis)'}",
            flush=True,
        )
        page = Contender("respondent page", page_jobs[args.warmup :])
        bare = Contender("floor (minimal Django view)", floor_jobs[args.warmup :])
        warm = fire(port, page_jobs[: args.warmup], args.clients)[0]
        warm += fire(port, floor_jobs[: args.warmup], args.clients)[0]
        load_before = os.getloadavg()[0]
        gunicorn_pid = gunicorn.pid

        def pids() -> tuple[list[int], list[int]]:
            return [gunicorn_pid, *children(gunicorn_pid)], backend_pids()

        size = args.requests // args.rounds
        for r in range(args.rounds):
            chunk = slice(r * size, (r + 1) * size)
            order = [page, bare] if r % 2 == 0 else [bare, page]
            for contender in order:
                measure(contender, contender.jobs[chunk], port, args.clients, pids)
    finally:
        stop_gunicorn(gunicorn)
    warm_errors = sum(1 for _, status in warm if status != 302)

    check = run(
        [
            PYTHON,
            "manage.py",
            "shell",
            "-c",
            "from feedback.models import Response; from django.db.models import Count;"
            "print(Response.objects.filter(completed=True, answers__isnull=False)"
            ".distinct().count(),"
            " Response.objects.values('invitation').annotate(n=Count('id')).filter(n__gt=1).count())",
        ],
        env,
        capture_output=True,
        text=True,
    )
    stored, duplicates = map(int, check.stdout.split()[-2:])
    if use_redis:
        try:
            import redis

            redis.Redis.from_url(redis_url).delete(queue_name)
        except Exception as exc:
            print(f"(could not drop the queue {queue_name}: {exc})")
    if not args.keep_db:
        admin_sql(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')

    latencies = page.ok
    p50 = statistics.median(latencies) if latencies else 0.0
    p99 = percentile(latencies, 99)
    print()
    print("Survey submission over HTTP (gunicorn + PostgreSQL, loopback), against its floor")
    print(
        f"  machine          {os.cpu_count()} cores; {args.workers} gunicorn workers, "
        f"{args.clients} concurrent clients (in 2 processes on the same machine), "
        f"{args.rounds} paired rounds"
    )
    for c in (page, bare):
        n = max(1, len(c.ok))
        print(f"  {c.name}")
        print(
            f"    requests       {len(c.results)} measured, {c.errors} errors; "
            f"{c.rate:.0f} per second"
        )
        print(
            f"    latency        p50 {statistics.median(c.ok) if c.ok else 0:.1f} ms · "
            f"p90 {percentile(c.ok, 90):.1f} ms · p99 {percentile(c.ok, 99):.1f} ms · "
            f"max {max(c.ok, default=0):.1f} ms"
        )
        print(
            f"    server CPU     {c.cpu_ms:.2f} ms per request "
            f"(gunicorn {c.cpu_web * 1000 / n:.2f} + PostgreSQL {c.cpu_db * 1000 / n:.2f})"
        )
    cpu_ratio = page.cpu_ms / bare.cpu_ms if bare.cpu_ms else 0.0
    rate_ratio = page.rate / bare.rate if bare.rate else 0.0
    successes = len(page.ok) + sum(1 for _, st in warm[: args.warmup] if st == 302)
    print(
        f"  database check   {stored} completed responses for {successes} successful page "
        f"submissions (+ warm-up errors {warm_errors}); invitations with more than one "
        f"response: {duplicates}"
    )
    print(
        f"  machine load     {load_before:.2f} (1-min load average when the measured run began; "
        "other processes on the machine share the cores)"
    )
    checks = [
        (f"server CPU {cpu_ratio:.2f}x the floor's", cpu_ratio <= 1.3, "≤ 1.3x"),
        (f"throughput {rate_ratio:.2f}x the floor's", rate_ratio >= 0.8, "≥ 0.8x"),
        (f"p99 {p99:.1f} ms", p99 < 150, "< 150 ms"),
        (f"{page.errors} errors", page.errors == 0, "0"),
        (
            f"{duplicates} duplicates, {stored} of {successes} stored",
            duplicates == 0 and stored == successes,
            "each success stored once",
        ),
    ]
    for text, met, target in checks:
        print(f"  target           {text}   (target {target}: {'met' if met else 'NOT met'})")
    print(
        json.dumps(
            {
                "responses_per_s": round(page.rate, 1),
                "p50_ms": round(p50, 2),
                "p99_ms": round(p99, 2),
                "requests": len(page.results),
                "errors": page.errors,
                "floor_per_s": round(bare.rate, 1),
                "cpu_ms": round(page.cpu_ms, 2),
                "floor_cpu_ms": round(bare.cpu_ms, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
