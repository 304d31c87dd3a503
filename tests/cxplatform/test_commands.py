"""The management commands of the public contract, and the settings' safety rules."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from cxplatform.models import ApiKey, Membership, Organization, Role, Team

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_create_organization_makes_the_org_and_its_admin_and_is_safe_to_repeat():
    run("create_organization", "initech", "Initech", "--admin-email", "Boss@Initech.example")
    run("create_organization", "initech", "Initech", "--admin-email", "boss@initech.example")
    org = Organization.objects.get(slug="initech")
    membership = Membership.objects.get(organization=org)
    assert (membership.user.email, membership.role) == ("boss@initech.example", Role.ADMIN)


@pytest.mark.django_db
def test_create_organization_refuses_a_bad_slug():
    with pytest.raises(CommandError):
        run("create_organization", "not a slug", "X", "--admin-email", "a@b.example")


@pytest.mark.django_db
def test_create_api_key_prints_a_working_key_alone_on_its_last_line(org):
    output = run("create_api_key", "acme", "Shop integration")
    raw = output.strip().splitlines()[-1]
    assert raw.startswith("cx_")
    assert " " not in raw
    assert ApiKey.objects.get(organization=org).name == "Shop integration"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/me/").json()["organization"]["slug"] == "acme"


@pytest.mark.django_db
def test_create_api_key_for_an_unknown_org_says_so():
    with pytest.raises(CommandError, match="No organization"):
        run("create_api_key", "nope", "x")


@pytest.mark.django_db
def test_seed_demo_twice_gives_the_same_demo_and_prints_the_logins():
    first = run("seed_demo", "--quick")
    counts = (Organization.objects.count(), Membership.objects.count(), Team.objects.count())
    second = run("seed_demo", "--quick")
    assert counts == (
        Organization.objects.count(),
        Membership.objects.count(),
        Team.objects.count(),
    )
    demo = Organization.objects.get(slug="demo")
    roles = set(Membership.objects.filter(organization=demo).values_list("role", flat=True))
    assert roles == {"admin", "manager", "agent", "viewer"}
    for output in (first, second):
        assert "manager@demo.example" in output
        assert "demo-password" in output


def _settings_check(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    # Only what a production shell would have: the browser tests' async escape hatch is not.
    unset = {"SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run(
        [sys.executable, "manage.py", "check", *args],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "cxplatform.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = _settings_check({"DEBUG": "false"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_the_deploy_checklist_is_clean_under_production_settings():
    result = _settings_check(
        {
            "DEBUG": "false",
            "SECRET_KEY": "a-long-random-production-secret-" + "x" * 40,
            "ALLOWED_HOSTS": "cx.example.com",
            "SITE_URL": "https://cx.example.com",
        },
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
