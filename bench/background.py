"""The Background work page and the pipeline API at a million responses, on PostgreSQL.

What it does, by itself, bounded in time (a minute or two):

1. creates its own PostgreSQL database (``<DATABASE_URL>/cx_bench_background``; default
   server postgres://postgres@127.0.0.1:5432/), migrates it;
2. writes, with set-based SQL, ``--responses`` completed responses (default 1,000,000) of
   one organization and one pipeline row per response: nearly all done over the last week
   (the retention window), a few thousand pending, some failed, some running past their
   lease; plus a second organization's rows the page must not count;
3. times, in-process with Django's test client signed in as an admin, the Background work
   page (``/settings/background/``), the API's summary (``pipeline-steps/summary/``) and
   list of open rows (``pipeline-steps/?status=failed``), and one sweep pass's due count;
4. checks the figures the page shows against a direct count, drops the database.

It prints a readable report, and as its LAST line one JSON object:
``{"page_p95_ms", "summary_p95_ms", "list_p95_ms", "sweep_ms", "responses"}``.
Target: every page and API call under 200 ms at p95.

    .venv/bin/python bench/background.py [--responses 1000000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

from support import pgserver  # bench/support/pgserver.py

ROOT = Path(__file__).resolve().parents[1]
DB_NAME = "cx_bench_background"


def base_url() -> str:
    return pgserver.base_url("bench/background.py")


def admin_sql(statement: str) -> None:
    pgserver.admin_sql("bench/background.py", statement)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * (len(ordered) - 1)))]


def timed(fn, repeat: int) -> list[float]:
    fn()  # warm
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def seed(n: int) -> dict[str, int]:
    from django.db import connection

    from cxplatform import services as core
    from cxplatform.models import Role
    from feedback.models import Contact
    from feedback.services import surveys

    org = core.organization_create(slug="bench", name="Bench Inc")
    other = core.organization_create(slug="other", name="Other Inc")
    user = core.user_get_or_create(email="admin@bench.example", name="Admin", password="pw")  # noqa: S106
    core.membership_set(org=org, user=user, role=Role.ADMIN, actor=core.SYSTEM)
    ids = {}
    for o in (org, other):
        survey = surveys.survey_create_from_template(
            org=o, actor=core.SYSTEM, kind="nps", status="active"
        )
        contact = Contact.objects.create(organization=o, email=f"c@{o.slug}.example")
        ids[o.slug] = (o.pk, survey.pk, contact.pk)
    with connection.cursor() as cursor:
        for slug, count in (("bench", n), ("other", n // 10)):
            org_id, survey_id, contact_id = ids[slug]
            cursor.execute(
                """
                INSERT INTO feedback_response (organization_id, survey_id, contact_id, channel,
                    external_ref, primary_type, primary_score, category, comment,
                    sentiment_label, locale, completed, flagged_automated, flag_reason,
                    user_agent, started_at, submitted_at, updated_at)
                SELECT %s, %s, %s, 'web', '', 'nps', g %% 11, '', '', '', 'en', true, false,
                    '', '', now() - (g || ' seconds')::interval * 0.6,
                    now() - (g || ' seconds')::interval * 0.6, now()
                FROM generate_series(1, %s) g
                """,
                [org_id, survey_id, contact_id, count],
            )
            # One row per response: done over the week, the newest few thousand pending,
            # every 20,000th failed, a handful running past their lease.
            cursor.execute(
                """
                INSERT INTO feedback_pipelinestep (organization_id, response_id, step, status,
                    attempts, last_error, run_after, leased_until, created_at, updated_at,
                    done_at)
                SELECT r.organization_id, r.id, 'sentiment',
                    CASE WHEN r.id %% 20000 = 0 THEN 'failed'
                         WHEN r.id %% 50000 = 1 THEN 'running'
                         WHEN r.submitted_at > now() - interval '3 minutes' THEN 'pending'
                         ELSE 'done' END,
                    1, CASE WHEN r.id %% 20000 = 0 THEN 'RuntimeError: bench' ELSE '' END,
                    r.submitted_at,
                    CASE WHEN r.id %% 50000 = 1 THEN now() - interval '1 minute' END,
                    r.submitted_at, r.submitted_at,
                    CASE WHEN r.id %% 20000 <> 0 AND r.id %% 50000 <> 1
                          AND r.submitted_at <= now() - interval '3 minutes'
                         THEN r.submitted_at + interval '2 seconds' END
                FROM feedback_response r WHERE r.organization_id = %s
                """,
                [org_id],
            )
        cursor.execute("ANALYZE")
    return {"org": ids["bench"][0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    args.responses = max(1000, min(args.responses, 5_000_000))

    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "cxplatform.settings",
            "DATABASE_URL": base_url() + DB_NAME,
            # DEBUG: the static files come from the finders (nothing is collected here).
            "DEBUG": "true",
            "ALLOWED_HOSTS": "testserver",
            "SECURE_SSL_REDIRECT": "false",
            "REDIS_URL": "",
            "EMAIL_URL": "smtp://127.0.0.1:1",
            "LOG_LEVEL": "WARNING",
        }
    )
    sys.path.insert(0, str(ROOT))
    admin_sql(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    admin_sql(f'CREATE DATABASE "{DB_NAME}"')
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.test import Client
        from django.utils import timezone

        from cxplatform.models import Organization
        from feedback.models import PipelineStep
        from feedback.selectors import pipeline as selectors
        from feedback.services import pipeline

        call_command("migrate", verbosity=0)
        print(f"Writing {args.responses:,} responses and their pipeline rows…", flush=True)
        started = time.perf_counter()
        ids = seed(args.responses)
        print(f"  seeded in {time.perf_counter() - started:.0f} s", flush=True)
        org = Organization.objects.get(pk=ids["org"])

        client = Client()
        assert client.login(username="admin@bench.example", password="pw")  # noqa: S106
        page = timed(lambda: client.get("/settings/background/"), args.repeat)
        summary = timed(lambda: client.get("/api/v1/pipeline-steps/summary/"), args.repeat)
        listed = timed(lambda: client.get("/api/v1/pipeline-steps/?status=failed"), args.repeat)
        sweep_started = time.perf_counter()
        due = PipelineStep.objects.due("sentiment", timezone.now()).count()
        sweep_ms = (time.perf_counter() - sweep_started) * 1000

        html = client.get("/settings/background/").content.decode()
        figures = {f.step: f for f in selectors.figures(org=org)}["sentiment"]
        rows = PipelineStep.objects.filter(organization=org)
        expected_failed = rows.filter(status="failed").count()
        expected_pending = rows.filter(status="pending").count()
        assert figures.failed == expected_failed, (figures.failed, expected_failed)
        assert figures.pending == expected_pending, (figures.pending, expected_pending)
        if expected_failed:
            assert f"{expected_failed:,} failed" in html, "the page shows the failed count"
        assert f">{figures.done_24h:,}<" in html, "the page shows the done count"
        assert pipeline.PASS_TASK  # the module imports cleanly in production settings
    finally:
        if not args.keep_db:
            from django.db import connections

            connections.close_all()
            admin_sql(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')

    print()
    print(f"Background work at {args.responses:,} responses (PostgreSQL, in-process client)")
    print(
        f"  rows             {figures.done_24h:,} done in the last 24 h, {figures.pending:,} "
        f"pending ({due:,} due in both organizations), {figures.running:,} running ({figures.stuck} stuck), "
        f"{figures.failed:,} failed"
    )
    for name, values in (
        ("page", page),
        ("API summary", summary),
        ("API open rows", listed),
    ):
        print(
            f"  {name:<16} p50 {statistics.median(values):.1f} ms · p95 {p95(values):.1f} ms "
            f"(target p95 < 200 ms: {'met' if p95(values) < 200 else 'NOT met'})"
        )
    print(f"  sweep due count  {sweep_ms:.1f} ms")
    print(
        json.dumps(
            {
                "page_p95_ms": round(p95(page), 1),
                "summary_p95_ms": round(p95(summary), 1),
                "list_p95_ms": round(p95(listed), 1),
                "sweep_ms": round(sweep_ms, 1),
                "responses": args.responses,
            }
        )
    )


if __name__ == "__main__":
    main()
