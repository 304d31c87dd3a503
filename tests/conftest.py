"""Shared fixtures: personas, API clients, and the real services of the integration tests.

Personas: ``admin``, ``manager``, ``agent``, ``viewer`` are members of ``org``;
``outsider`` is an admin of ``other_org``. Each persona is a logged-in Django test client
(``admin_client`` …) or a user (``admin_user_`` …).

Real services: with ``CX_REQUIRE_SERVICES=1`` (set by .ci/run) a missing PostgreSQL,
Redis or Chromium fails the test; otherwise those tests are skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from cxplatform.models import Organization, Role
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory, api_key_for

REQUIRE_SERVICES = os.environ.get("CX_REQUIRE_SERVICES") == "1"


def need(condition: bool, reason: str) -> None:
    """Skip (or, in CI, fail) when a real service the test needs is missing."""
    if condition:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"CX_REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def require_postgres(db: None) -> None:
    need(
        connection.vendor == "postgresql",
        "this test needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/cx",
    )


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("REDIS_URL_TEST", "redis://127.0.0.1:6379/0")
    from urllib.parse import urlparse

    parsed = urlparse(url)
    need(port_open(parsed.hostname or "127.0.0.1", parsed.port or 6379), f"no Redis at {url}")
    return url


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    need(os.path.exists(path), "Debian's chromium is not installed (make test installs it)")
    return path


@pytest.fixture
def org(db: None) -> Organization:
    return OrganizationFactory(name="Acme", slug="acme")


@pytest.fixture
def other_org(db: None) -> Organization:
    return OrganizationFactory(name="Globex", slug="globex")


def _member(org: Organization, role: str, email: str):
    user = UserFactory(email=email, first_name=role.title())
    MembershipFactory(organization=org, user=user, role=role)
    return user


@pytest.fixture
def admin_user_(org):
    return _member(org, Role.ADMIN, "admin@acme.example")


@pytest.fixture
def manager_user(org):
    return _member(org, Role.MANAGER, "manager@acme.example")


@pytest.fixture
def agent_user(org):
    return _member(org, Role.AGENT, "agent@acme.example")


@pytest.fixture
def viewer_user(org):
    return _member(org, Role.VIEWER, "viewer@acme.example")


@pytest.fixture
def outsider_user(other_org):
    return _member(other_org, Role.ADMIN, "admin@globex.example")


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin(admin_user_) -> Client:
    return _client_for(admin_user_)


@pytest.fixture
def manager(manager_user) -> Client:
    return _client_for(manager_user)


@pytest.fixture
def agent(agent_user) -> Client:
    return _client_for(agent_user)


@pytest.fixture
def viewer(viewer_user) -> Client:
    return _client_for(viewer_user)


@pytest.fixture
def outsider(outsider_user) -> Client:
    return _client_for(outsider_user)


@pytest.fixture
def api_client_for() -> Callable[..., APIClient]:
    """``api_client_for(org, role)``: an API client authenticated by a new key of ``org``."""

    def make(org: Organization, role: str = Role.MANAGER) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(org, role)}")
        return client

    return make


@pytest.fixture
def api(org, api_client_for) -> APIClient:
    """An integration of ``org`` with a read-write key."""
    return api_client_for(org)


@pytest.fixture
def outsider_api(other_org, api_client_for) -> APIClient:
    return api_client_for(other_org)


@pytest.fixture
def contribute(monkeypatch):
    """``contribute(app_label, hook, dotted_path)``: make an installed app contribute to a
    hook of ``cxplatform.extensions`` for this test (as its AppConfig would)."""
    from django.apps import apps

    from cxplatform import extensions

    def add(app_label: str, hook: str, path: str) -> None:
        config = apps.get_app_config(app_label)
        contributes = {**getattr(config, "contributes", {}), hook: path}
        monkeypatch.setattr(config, "contributes", contributes, raising=False)
        extensions.contributions.cache_clear()

    yield add
    monkeypatch.undo()
    extensions.contributions.cache_clear()
