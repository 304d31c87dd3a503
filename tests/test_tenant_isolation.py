"""Org B never sees org A's rows: every registered API route and staff URL is walked.

The walk is over the URL resolver, so a route added later is covered automatically:
- an API detail route is checked with a row made by the factory of its viewset's model
  (``tests/*/factories.py``): no factory for a new model fails this test;
- a staff URL with arguments must be listed in STAFF_ROWS (how to make org A's row for
  it) or in PUBLIC (with the reason it is not tenant data): an unlisted one fails.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import factory
import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from cxplatform.models import Organization
from tests.factories import MembershipFactory, TeamFactory, UserFactory

# Staff routes with arguments whose value is not a tenant row, with the reason.
PUBLIC: dict[str, str] = {
    "password_reset_confirm": "a signed token, not a row",
    "mailbox_message": "the demo mailbox stands for the outside world, not a tenant",
    "mailbox_message_html": "the demo mailbox stands for the outside world, not a tenant",
}

# Staff routes with arguments: how to make org A's row they point at.
STAFF_ROWS: dict[str, Callable[[Organization], dict[str, Any]]] = {
    "member_remove": lambda org: {"pk": MembershipFactory(organization=org, user=UserFactory()).pk},
    "team_edit": lambda org: {"pk": TeamFactory(organization=org).pk},
    "team_delete": lambda org: {"pk": TeamFactory(organization=org).pk},
    "api_key_revoke": lambda org: {"pk": _api_key(org)},
}


def _api_key(org: Organization) -> int:
    from cxplatform import services

    key, _ = services.api_key_create(org=org, name="victim")
    return key.pk


def register_staff_rows(rows: dict[str, Callable[[Organization], dict[str, Any]]]) -> None:
    """Apps' tests add their staff routes here, from tests/<app>/tenancy*.py modules."""
    STAFF_ROWS.update(rows)


def _load_app_registrations() -> None:
    import tests

    for module in pkgutil.walk_packages(tests.__path__, "tests."):
        if module.name.rsplit(".", 1)[-1].startswith("tenancy"):
            importlib.import_module(module.name)


@dataclass
class Route:
    name: str
    pattern: str
    callback: Any
    converters: list[str]


def walk(resolvers=None, prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for entry in resolvers if resolvers is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            full = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from walk(entry.url_patterns, prefix + str(entry.pattern), full)
        elif isinstance(entry, URLPattern) and entry.name:
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            yield Route(
                name,
                prefix + str(entry.pattern),
                entry.callback,
                list(entry.pattern.regex.groupindex),
            )


def all_model_factories() -> dict[type, type]:
    import tests

    found: dict[type, type] = {}
    for module in pkgutil.walk_packages(tests.__path__, "tests."):
        if not module.name.endswith("factories"):
            continue
        mod = importlib.import_module(module.name)
        for value in vars(mod).values():
            if (
                isinstance(value, type)
                and issubclass(value, factory.django.DjangoModelFactory)
                and value._meta.model is not None
            ):
                found.setdefault(value._meta.model, value)
    return found


def api_routes() -> list[Route]:
    return [r for r in walk() if r.name.startswith("api:")]


def staff_routes() -> list[Route]:
    return [
        r
        for r in walk()
        if not r.name.startswith(("api:", "admin:"))
        and not r.pattern.startswith(("s/", "u/", "o/"))  # respondent pages: by token
    ]


def viewset_of(route: Route):
    cls = getattr(route.callback, "cls", None)
    return cls if cls is not None and hasattr(cls, "get_org_queryset") else None


def url_for(route: Route, kwargs: dict[str, Any]) -> str:
    from django.urls import reverse

    return reverse(route.name, kwargs=kwargs)


@pytest.mark.django_db
def test_every_api_detail_route_answers_404_to_another_organization(
    org, other_org, outsider_api, api
):
    factories = all_model_factories()
    checked = []
    for route in api_routes():
        viewset = viewset_of(route)
        if viewset is None or "pk" not in route.converters:
            continue
        model = viewset.queryset.model
        assert model in factories, (
            f"{route.name}: no factory for {model.__name__} in tests/*/factories.py, "
            "so tenant isolation of this route is not checked"
        )
        row = factories[model](organization=org)
        kwargs = {"pk": row.pk}
        for extra in route.converters:
            if extra == "locale":
                kwargs[extra] = "de"  # a survey's translations in one language
            elif extra != "pk":
                kwargs[extra] = "json"  # the router's format suffix
        url = url_for(route, kwargs)
        assert api.get(url).status_code in {200, 405}, f"owner cannot read {url}"
        for method in ("get", "patch", "put", "delete", "post"):
            status = getattr(outsider_api, method)(url, {}, format="json").status_code
            assert status in {404, 405}, f"{method.upper()} {url} as another org gave {status}"
        assert model.objects.filter(pk=row.pk).exists(), f"{url} deleted another org's row"
        checked.append(route.name)
    assert "api:team-detail" in checked


@pytest.mark.django_db
def test_every_api_list_route_shows_only_the_callers_rows(org, other_org, outsider_api):
    factories = all_model_factories()
    checked = []
    for route in api_routes():
        viewset = viewset_of(route)
        if viewset is None or route.converters or not route.name.endswith("-list"):
            continue
        row = factories[viewset.queryset.model](organization=org)
        response = outsider_api.get(url_for(route, {}))
        assert response.status_code == 200, route.name
        ids = [item["id"] for item in response.json()["results"]]
        assert row.pk not in ids, f"{route.name} lists another organization's row"
        checked.append(route.name)
    assert "api:team-list" in checked


@pytest.mark.django_db
def test_every_staff_url_with_a_row_answers_404_to_another_organization(org, other_org, outsider):
    _load_app_registrations()
    unlisted = []
    checked = []
    for route in staff_routes():
        if not route.converters or route.name in PUBLIC:
            continue
        make = STAFF_ROWS.get(route.name)
        if make is None:
            unlisted.append(f"{route.name} ({route.pattern})")
            continue
        url = url_for(route, make(org))
        for method in ("get", "post"):
            status = getattr(outsider, method)(url).status_code
            assert status in {404, 405}, f"{method.upper()} {url} as another org gave {status}"
        checked.append(route.name)
    assert not unlisted, (
        "staff URLs with arguments not covered by the tenant-isolation walk; add them to "
        f"STAFF_ROWS (tests/<app>/tenancy.py) or PUBLIC: {unlisted}"
    )
    assert checked


@pytest.mark.django_db
def test_every_staff_page_without_arguments_shows_nothing_of_another_organization(
    org, other_org, outsider, admin
):
    """Org A's team name appears on org A's pages, never on org B's."""
    TeamFactory(organization=org, name="Zebra Secret Squad")
    for route in staff_routes():
        if route.converters or route.name in {"logout", "organization_switch"}:
            continue
        url = url_for(route, {})
        response = outsider.get(url)
        assert response.status_code in {200, 302, 404, 405}, (
            f"GET {url} gave {response.status_code}"
        )
        content = b"".join(response.streaming_content) if response.streaming else response.content
        assert b"Zebra Secret Squad" not in content, f"{url} leaks org A's team"
