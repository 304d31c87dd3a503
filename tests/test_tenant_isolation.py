"""Org B never sees or touches org A's rows: EVERY route is walked, API and staff UI.

Both organizations get a whole world of rows (one or more of every tenant model, linked
to each other); org A's texts carry a marker (``acmesecret``). Then, as org B:

- every route of the URL resolver is visited, every method its view answers: every
  viewset action of the API router (list- and detail-level, every ``@action``), the
  ``APIView``s (``me/``, ``organization/``…) and every staff URL of the web UI;
- a GET never shows org A's marker (also with org A's ids in the query string);
- a write (POST/PUT/PATCH/DELETE, with org A's ids and emails in the body, and a CSV
  file) changes none of org A's rows and leaves no org B row pointing at an org A row;
- a route addressing a row answers 404 for org A's row (and org A itself gets its row).

The only way out is ``OPTED_OUT`` (route name → the reason, e.g. a public page behind a
token); a route that is neither walkable nor opted out fails the test, so a new route is
covered the day it is added. Staff URLs with arguments say how to make org A's row for
them in ``tests/<app>/tenancy*.py`` (``register_staff_rows``).

Breakages tried on purpose (each turned a test red): the deliveries list unscoped (its
contact emails showed); ``me/`` and ``organization/`` reading the first organization;
``contacts/import`` matching existing contacts across organizations (org A's contact
changed); ``deliveries/bounces`` finding the invitation unscoped; the staff contact list
unscoped; the organization switch accepting any organization's membership; a new staff
URL with an argument and a new unscoped API list route.
"""

from __future__ import annotations

import importlib
import io
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import factory
import pytest
from django.apps import apps
from django.db import models, transaction
from django.test import Client, TestCase
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from cxplatform import services as core_services
from cxplatform.models import AuditEvent, Organization, Role
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    TeamFactory,
    UserFactory,
    api_key_for,
)

MARK = "acmesecret"

# The only routes the walk does not visit, each with its reason.
OPTED_OUT: dict[str, str] = {
    "logout": "ends the caller's own session (the walk needs it); shows no tenant data",
    "password_reset_confirm": "a signed token for one user, not a tenant row",
    "mailbox_message": "the demo mailbox stands for the outside world, not a tenant",
    "mailbox_message_html": "the demo mailbox stands for the outside world, not a tenant",
    "feedback:respondent_survey": "public respondent page: token-authenticated",
    "feedback:respondent_thanks": "public respondent page: token-authenticated",
    "feedback:respondent_score": "public respondent page: token-authenticated",
    "feedback:unsubscribe": "public unsubscribe page: token-authenticated",
    "feedback:open_pixel": "public tracking pixel: token-authenticated",
    "^api(?:/|$)": "the API's JSON 404 for any path outside /api/v1/: no data",
}

# Staff routes with arguments: how to make org A's row they point at.
# Route arguments besides the row's id, and the value the walk gives them.
EXTRA_ARGUMENTS = {"locale": "de"}  # a survey's translations in one language

STAFF_ROWS: dict[str, Callable[[Organization], dict[str, Any]]] = {
    "member_remove": lambda org: {"pk": MembershipFactory(organization=org, user=UserFactory()).pk},
    "team_edit": lambda org: {"pk": TeamFactory(organization=org).pk},
    "team_delete": lambda org: {"pk": TeamFactory(organization=org).pk},
    "api_key_revoke": lambda org: {"pk": _api_key(org)},
}

# Text fields that get org A's marker (so a leak of the row shows in the body).
MARKED_FIELDS = {
    "name",
    "email",
    "title",
    "text",
    "comment",
    "description",
    "detail",
    "subject",
    "intro",
    "persona",
    "company",
    "filename",
    "object_repr",
    "question_text",
    "value_text",
    "sender_name",
    "external_id",
    "external_ref",
}


def _api_key(org: Organization) -> int:
    key, _ = core_services.api_key_create(org=org, name="victim")
    return key.pk


def register_staff_rows(rows: dict[str, Callable[[Organization], dict[str, Any]]]) -> None:
    """Apps' tests add their staff routes here, from tests/<app>/tenancy*.py modules."""
    STAFF_ROWS.update(rows)


def _load_app_registrations() -> None:
    import tests

    for module in pkgutil.walk_packages(tests.__path__, "tests."):
        if module.name.rsplit(".", 1)[-1].startswith("tenancy"):
            importlib.import_module(module.name)


# --- the routes ---------------------------------------------------------------------


@dataclass
class Route:
    name: str
    pattern: str
    callback: Any
    converters: list[str]
    named: bool = True

    @property
    def view_class(self) -> Any:
        return getattr(self.callback, "cls", None) or getattr(self.callback, "view_class", None)

    def methods(self) -> list[str]:
        """The HTTP methods the view answers (a viewset's action map, an APIView's
        handlers, a function view: GET and POST, its decorators refuse the others)."""
        actions = getattr(self.callback, "actions", None)
        cls = self.view_class
        if actions:
            allowed = getattr(cls, "http_method_names", actions)
            return sorted(m for m in actions if m in allowed and m not in {"head", "options"})
        if cls is not None:
            allowed = getattr(cls, "http_method_names", [])
            return [
                m
                for m in ("get", "post", "put", "patch", "delete")
                if m in allowed and hasattr(cls, m)
            ]
        return ["get", "post"]


def walk(resolvers=None, prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for entry in resolvers if resolvers is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            full = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from walk(entry.url_patterns, prefix + str(entry.pattern), full)
        elif isinstance(entry, URLPattern):
            # An unnamed route cannot be reversed: it goes by its pattern (see OPTED_OUT).
            name = entry.name or f"{prefix}{entry.pattern}"
            name = f"{namespace}:{name}" if namespace else name
            yield Route(
                name,
                prefix + str(entry.pattern),
                entry.callback,
                list(entry.pattern.regex.groupindex),
                named=bool(entry.name),
            )


def api_routes() -> list[Route]:
    # A format suffix (``teams.json``) is the same view as its route: walked once.
    return [r for r in walk() if r.name.startswith("api:") and "format" not in r.converters]


def staff_routes() -> list[Route]:
    return [r for r in walk() if not r.name.startswith(("api:", "admin:"))]


def url_for(route: Route, kwargs: dict[str, Any]) -> str:
    return reverse(route.name, kwargs=kwargs)


# --- the two worlds -----------------------------------------------------------------


def tenant_models() -> list[type[models.Model]]:
    """Models with a foreign key to Organization: the tenant tables."""
    return [
        model
        for model in apps.get_models()
        if any(
            f.many_to_one and f.related_model is Organization
            for f in model._meta.get_fields()
            if f.concrete
        )
    ]


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


@dataclass
class World:
    org: Organization
    rows: dict[type, list[models.Model]] = field(default_factory=dict)

    def first(self, model: type) -> models.Model:
        return self.rows[model][0]


def build_world(org: Organization, *, marked: bool) -> World:
    """One organization's rows, linked the way the product links them; then one row of
    every other tenant model from its factory; org A's texts then carry the marker."""
    from feedback.models import DeliveryEvent
    from tests.feedback.factories import (
        CampaignFactory,
        ContactFactory,
        ContactImportFactory,
        InvitationFactory,
        ResponseFactory,
        SegmentFactory,
        SurveyFactory,
    )
    from tests.journeys.factories import JourneyFactory, StageFactory, TouchpointFactory

    team = TeamFactory(organization=org)
    member = UserFactory(email=f"{org.slug}.member@{org.slug}.example")
    MembershipFactory(organization=org, user=member, team=team, role=Role.AGENT)
    journey = JourneyFactory(organization=org)
    stage = StageFactory(organization=org, journey=journey)
    touchpoint = TouchpointFactory(organization=org, stage=stage, owner_team=team)
    survey = SurveyFactory(organization=org, touchpoint=touchpoint)
    contact = ContactFactory(organization=org, company="Company")
    segment = SegmentFactory(organization=org, filter={})
    campaign = CampaignFactory(
        organization=org, survey=survey, touchpoint=touchpoint, segment=segment
    )
    campaign.listed_contacts.add(contact, through_defaults={"organization": org})
    invitation = InvitationFactory(
        organization=org,
        contact=contact,
        survey=survey,
        campaign=campaign,
        touchpoint=touchpoint,
        status="sent",
        sent_at=timezone.now(),
        message_id=f"<{org.slug}-1@cx.example>",
        external_ref="ref",
    )
    ResponseFactory(
        organization=org,
        survey=survey,
        contact=contact,
        invitation=invitation,
        campaign=campaign,
        touchpoint=touchpoint,
        comment="Comment",
        external_ref="ref",
    )
    DeliveryEvent.objects.create(
        organization=org, invitation=invitation, contact=contact, kind="open", detail="Detail"
    )
    ContactImportFactory(organization=org)
    _api_key(org)
    AuditEvent.objects.create(organization=org, action="journey.created", object_repr="Journey")

    factories = all_model_factories()
    missing = []
    for model in tenant_models():
        if not model.objects.filter(organization=org).exists():
            if model not in factories:
                missing.append(model.__name__)
                continue
            factories[model](organization=org)
    assert not missing, (
        f"no factory for tenant models {missing} in tests/*/factories.py: the tenant walk "
        "cannot seed them, so their isolation is not checked"
    )
    world = World(org)
    for model in tenant_models():
        world.rows[model] = list(model.objects.filter(organization=org).order_by("pk"))
    if marked:
        _mark(world, member)
        for model in world.rows:
            world.rows[model] = list(model.objects.filter(organization=org).order_by("pk"))
    return world


def _mark(world: World, member: Any) -> None:
    org = world.org
    Organization.objects.filter(pk=org.pk).update(name=f"{MARK.title()} Corp")
    member.email = f"{MARK}.member@acme.example"
    member.first_name = f"{MARK.title()}member"
    member.save()
    for model, rows in world.rows.items():
        for row in rows:
            changes = {}
            for f in model._meta.concrete_fields:
                if f.name not in MARKED_FIELDS or f.choices or f.unique:
                    continue
                if not isinstance(f, models.CharField | models.TextField):
                    continue
                if isinstance(f, models.EmailField):
                    value = f"{MARK}.{model._meta.model_name}{row.pk}@acme.example"
                else:
                    value = f"{MARK.title()} {model._meta.model_name} {row.pk}"
                changes[f.attname] = value[: f.max_length] if f.max_length else value
            if changes:
                model.objects.filter(pk=row.pk).update(**changes)
    org.refresh_from_db()


def snapshot(org: Organization) -> dict[str, list[dict[str, Any]]]:
    """Every row of ``org``, field by field (and its many-to-many links)."""
    shot = {"organization": list(Organization.objects.filter(pk=org.pk).values())}
    for model in tenant_models():
        rows = model.objects.filter(organization=org).order_by("pk")
        shot[model._meta.label] = list(rows.values())
        for m2m in model._meta.many_to_many:
            through = getattr(model, m2m.name).through
            source = next(f for f in through._meta.fields if f.related_model is model)
            shot[f"{model._meta.label}.{m2m.name}"] = list(
                through.objects.filter(**{f"{source.name}__organization": org})
                .order_by("pk")
                .values()
            )
    return shot


def cross_tenant_links() -> list[str]:
    """Rows whose foreign key points at a row of another organization."""
    tenants = set(tenant_models())
    found = []
    for model in tenants:
        for f in model._meta.concrete_fields:
            if f.many_to_one and f.related_model in tenants:
                bad = model.objects.filter(**{f"{f.name}__isnull": False}).exclude(
                    **{f"{f.name}__organization": models.F("organization")}
                )
                found += [
                    f"{model.__name__} {pk}.{f.name}" for pk in bad.values_list("pk", flat=True)
                ]
        for m2m in model._meta.many_to_many:
            through = getattr(model, m2m.name).through
            ends = [f for f in through._meta.fields if f.related_model in tenants]
            if len(ends) == 2:
                bad = through.objects.exclude(
                    **{f"{ends[0].name}__organization": models.F(f"{ends[1].name}__organization")}
                )
                found += [
                    f"{model.__name__}.{m2m.name} {pk}" for pk in bad.values_list("pk", flat=True)
                ]
    return found


def poison(world: World) -> dict[str, Any]:
    """Org A's ids under every name a form or serializer may use for them."""
    data: dict[str, Any] = {"organization": world.org.pk}
    for model, rows in world.rows.items():
        data.setdefault(model._meta.model_name, rows[0].pk)
        for f in model._meta.concrete_fields:
            if f.many_to_one and f.related_model in world.rows:
                data.setdefault(f.name, world.first(f.related_model).pk)
        for m2m in model._meta.many_to_many:
            if m2m.related_model in world.rows:
                data.setdefault(m2m.name, [world.first(m2m.related_model).pk])
    from feedback.models import Invitation

    data["message_id"] = world.first(Invitation).message_id
    return data


def poison_with_emails(world: World) -> dict[str, Any]:
    from feedback.models import Contact

    email = world.first(Contact).email
    csv = f"email,name\n{email},Overwritten\n".encode()
    return {
        **poison(world),
        "email": email,
        "contact_email": email,
        "file": io.BytesIO(csv),
    }


def body(response: Any) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


@dataclass
class Walk:
    """Org B's view of the two worlds, with the checks every request goes through."""

    a: World
    b: World
    before: dict[str, Any]
    visited: list[str] = field(default_factory=list)

    def check_read(self, what: str, response: Any) -> None:
        assert response.status_code < 500, f"{what} gave {response.status_code}"
        content = body(response).lower()
        at = content.find(MARK.encode())
        assert at < 0, f"{what} shows org A's rows: …{content[max(0, at - 300) : at + 100]!r}…"

    def write(self, what: str, client: Any, method: str, url: str, data: Any, **kwargs: Any) -> Any:
        """Send a write as org B and check it. A write with org A's emails in its body is
        then undone (a savepoint), so what org B made of them (a contact with that
        address, a flash message) does not show on org B's later pages as a leak; the
        others stay, so a session they changed (a switch of organization) is walked on."""
        echoed = kwargs.pop("echoed", False)
        with transaction.atomic():
            response = _call(client, method, url, data, **kwargs)
            assert response.status_code < 500, f"{what} gave {response.status_code}"
            if echoed:
                client.cookies.pop("messages", None)
            else:
                assert MARK.encode() not in body(response).lower(), f"{what} shows org A's rows"
            after = snapshot(self.a.org)
            changed = [k for k in after if after[k] != self.before.get(k)]
            assert not changed, f"{what} changed org A's rows: {changed}"
            links = cross_tenant_links()
            assert not links, f"{what} linked rows across organizations: {links}"
            transaction.set_rollback(echoed)
        return response


@pytest.fixture
def worlds(db: None) -> tuple[World, World]:
    org_a = OrganizationFactory(name="Acme", slug="acme")
    org_b = OrganizationFactory(name="Globex", slug="globex")
    b = build_world(org_b, marked=False)
    a = build_world(org_a, marked=True)
    return a, b


def _api(org: Organization, role: str = Role.ADMIN) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(org, role)}")
    return client


def _staff(org: Organization) -> Client:
    user = UserFactory(email=f"admin@{org.slug}.example")
    MembershipFactory(organization=org, user=user, role=Role.ADMIN)
    client = Client()
    client.force_login(user)
    return client


def _call(client: Any, method: str, url: str, data: Any = None, **kwargs: Any) -> Any:
    if method == "get":
        return client.get(url, data or {})
    # What the request enqueues after its commit runs too (eager tasks: an import, a send).
    with TestCase.captureOnCommitCallbacks(execute=True):
        return getattr(client, method)(url, data if data is not None else {}, **kwargs)


# --- the API ------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_api_route_keeps_another_organizations_rows_out_of_sight_and_reach(worlds):
    a, b = worlds
    owner, outsider = _api(a.org), _api(b.org)
    owner.get("/api/v1/me/")  # the key's last use is noted now, not during the walk
    walk_ = Walk(a, b, snapshot(a.org))
    unwalkable = []
    owner_saw_mark = []
    for route in api_routes():
        if route.name in OPTED_OUT:
            continue
        extra = set(route.converters) - {"pk", *EXTRA_ARGUMENTS}
        if extra:
            unwalkable.append(f"{route.name} ({route.pattern}): arguments {sorted(extra)}")
            continue
        if "pk" in route.converters:
            _walk_api_detail(route, walk_, owner, outsider, unwalkable)
        else:
            _walk_api_list(route, walk_, owner, outsider, owner_saw_mark)
    assert not unwalkable, f"API routes the tenant walk cannot visit: {unwalkable}"
    # The checks can fail: the owner does see its marked rows through the same routes.
    assert {"api:delivery-list", "api:contact-list", "api:me", "api:organization"} <= set(
        owner_saw_mark
    ), owner_saw_mark
    assert {"api:delivery-bounces", "api:contact-upload", "api:team-detail"} <= set(
        walk_.visited
    ), walk_.visited


def _walk_api_detail(route, walk_, owner, outsider, unwalkable) -> None:
    viewset = route.view_class
    model = getattr(getattr(viewset, "queryset", None), "model", None)
    if model not in walk_.a.rows:
        unwalkable.append(f"{route.name}: its viewset names no tenant model (queryset)")
        return
    extra = {k: EXTRA_ARGUMENTS[k] for k in route.converters if k != "pk"}
    theirs = url_for(route, {"pk": walk_.a.first(model).pk, **extra})
    ours = url_for(route, {"pk": walk_.b.first(model).pk, **extra})
    for method in route.methods():
        what = f"{method.upper()} {theirs} (org A's {model.__name__}) as org B"
        response = walk_.write(what, outsider, method, theirs, poison(walk_.a), format="json")
        assert response.status_code == 404, f"{what} gave {response.status_code}"
        if method == "get":
            got = owner.get(theirs)
            assert got.status_code == 200, f"the owner gets {got.status_code} for {theirs}"
            walk_.check_read(f"GET {ours} (org B's own)", outsider.get(ours))
    walk_.visited.append(route.name)


def _walk_api_list(route, walk_, owner, outsider, owner_saw_mark) -> None:
    url = url_for(route, {})
    for method in route.methods():
        if method == "get":
            walk_.check_read(f"GET {url}", outsider.get(url))
            walk_.check_read(f"GET {url} with org A's ids", outsider.get(url, poison(walk_.a)))
            if MARK.encode() in body(owner.get(url)).lower():
                owner_saw_mark.append(route.name)
            continue
        what = f"{method.upper()} {url} as org B"
        walk_.write(what, outsider, method, url, poison(walk_.a), format="json")
        walk_.write(
            f"{what} (multipart, org A's emails)",
            outsider,
            method,
            url,
            poison_with_emails(walk_.a),
            format="multipart",
            echoed=True,
        )
    walk_.visited.append(route.name)


# --- the staff UI -------------------------------------------------------------------


@pytest.mark.django_db
def test_every_staff_url_keeps_another_organizations_rows_out_of_sight_and_reach(worlds):
    _load_app_registrations()
    a, b = worlds
    owner, outsider = _staff(a.org), _staff(b.org)
    walk_ = Walk(a, b, snapshot(a.org))
    unlisted = []
    pages = []
    owner_saw_mark = []
    for route in staff_routes():
        if route.name in OPTED_OUT:
            continue
        if route.converters or route.callback is None:
            make = STAFF_ROWS.get(route.name)
            if make is None:
                unlisted.append(f"{route.name} ({route.pattern})")
                continue
            theirs = url_for(route, make(a.org))
            walk_.before = snapshot(a.org)  # making the row changed org A
            for method in ("get", "post"):
                what = f"{method.upper()} {theirs} as another org"
                response = walk_.write(what, outsider, method, theirs, poison(a))
                assert response.status_code in {404, 405}, f"{what} gave {response.status_code}"
            assert owner.get(theirs).status_code != 404, f"the owner gets 404 for {theirs}"
            ours = url_for(route, make(b.org))
            walk_.check_read(f"GET {ours} (org B's own)", outsider.get(ours))
            walk_.before = snapshot(a.org)
        else:
            url = url_for(route, {})
            pages.append(url)
            walk_.check_read(f"GET {url}", outsider.get(url))
            walk_.check_read(f"GET {url} with org A's ids", outsider.get(url, poison(a)))
            if MARK.encode() in body(owner.get(url)).lower():
                owner_saw_mark.append(route.name)
            walk_.write(f"POST {url}", outsider, "post", url, poison(a))
            walk_.write(
                f"POST {url} (org A's emails)",
                outsider,
                "post",
                url,
                poison_with_emails(a),
                echoed=True,
            )
        walk_.visited.append(route.name)
    assert not unlisted, (
        "staff URLs with arguments not covered by the tenant-isolation walk; add them to "
        f"STAFF_ROWS (tests/<app>/tenancy*.py) or OPTED_OUT with a reason: {unlisted}"
    )
    # A POST above (organization switch, invitation…) must not have let org B in.
    for url in pages:
        walk_.check_read(f"GET {url} after the walk", outsider.get(url))
    assert {"feedback:contact_list", "feedback:response_list", "member_list"} <= set(
        owner_saw_mark
    ), owner_saw_mark


@pytest.mark.django_db
def test_the_django_admin_sends_every_member_to_its_login(worlds):
    """The admin is cross-tenant by design: only superusers get in, never a member."""
    _, b = worlds
    outsider = _staff(b.org)
    fill = {"object_id": "1", "content_type_id": "1", "id": "1", "app_label": "feedback"}
    # The admin's unnamed routes only redirect to its named ones.
    admin_routes = [r for r in walk() if r.name.startswith("admin:") and r.named]
    for route in admin_routes:
        url = url_for(route, {k: fill[k] for k in route.converters})
        response = outsider.get(url)
        if route.name in {"admin:login", "admin:logout"}:  # the way in and out
            assert response.status_code in {200, 302, 405}, f"GET {url} gave {response.status_code}"
            continue
        assert response.status_code == 302, f"GET {url} gave {response.status_code}"
        assert "/admin/login/" in response["Location"], url
    assert len(admin_routes) > 10


def test_every_opt_out_names_a_route_that_exists():
    names = {r.name for r in walk()}
    assert set(OPTED_OUT) <= names, set(OPTED_OUT) - names
    assert all(reason.strip() for reason in OPTED_OUT.values())
