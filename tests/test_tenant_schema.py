"""Every tenant table is ready to be distributed by organization (Citus, docs/scaling.md).

The walk goes over every model Django knows (django.apps, the automatic many-to-many
tables included). A *tenant* table is one with a foreign-key path to Organization; for
each of them:

- it carries ``organization_id`` itself (not only through its parent), never null;
- every unique constraint starts with ``organization`` (a distributed unique index must
  hold the distribution column), and so does every index it declares;
- no single-column index of its own (``db_index=True``) other than a foreign key's.

A foreign key's own index (Django makes one per foreign key) is left alone: it serves the
cascades and joins from the parent row. The only other ways out, each with its reason:
``GLOBAL`` (tables that are not tenant data), ``CROSS_ORGANIZATION_INDEXES`` (the sweeps
that scan all organizations: on Citus they run on every shard against its local index)
and ``PENDING`` (known, named, with what removes them).
"""

from __future__ import annotations

from django.apps import apps
from django.db import models
from django.db.models.expressions import F

from cxplatform.models import Organization

GLOBAL: dict[str, str] = {
    "cxplatform.Organization": "the tenants themselves (a Citus reference table)",
    "cxplatform.ApiKeyDirectory": "API key hash -> organization: the lookup that comes "
    "without an organization (small; a Citus reference table)",
    "cxplatform.MailboxMessage": "the demo mailbox stands for the outside world",
    "cxplatform.WorkerHeartbeat": "one row per background worker, not per organization",
    "auth.User": "people log in once and may belong to several organizations",
    "auth.Group": "Django's permission groups (unused by the product)",
    "auth.Permission": "Django's permission table",
    "auth.Group_permissions": "Django's permission table",
    "auth.User_groups": "Django's permission table",
    "auth.User_user_permissions": "Django's permission table",
    "contenttypes.ContentType": "Django's model registry",
    "sessions.Session": "a login session, before any organization is chosen",
    "admin.LogEntry": "the Django admin's log: superusers, across organizations",
}

CROSS_ORGANIZATION_INDEXES: dict[tuple[str, tuple[str, ...]], str] = {
    ("feedback.Invitation", ("status", "next_attempt_at")): "the send claim and its sweep "
    "pick due invitations of every organization",
    ("feedback.Invitation", ("status", "claimed_until")): "the sweep re-enqueues expired "
    "claims of every organization",
    ("feedback.Campaign", ("status", "send_at")): "beat starts the scheduled campaigns "
    "of every organization",
    ("feedback.Invitation", ("token",)): "links made before tokens named their "
    "organization: a small partial index of those rows only, until they expire",
}

# Known exceptions, each with what removes it (none today).
PENDING: dict[tuple[str, str], str] = {}


def label(model: type[models.Model]) -> str:
    return model._meta.label


def reaches_organization(model: type[models.Model], seen: frozenset = frozenset()) -> bool:
    for f in model._meta.concrete_fields:
        target = f.related_model if f.is_relation else None
        if target is None or target in seen or target is model:
            continue
        if target is Organization or reaches_organization(target, seen | {model}):
            return True
    return False


def leading(parts: list[str] | tuple[str, ...], expressions: tuple = ()) -> str | None:
    """The first column of a constraint or index (``-`` of a descending one dropped)."""
    if parts:
        return parts[0].lstrip("-")
    first = expressions[0] if expressions else None
    while first is not None and not isinstance(first, F):
        sources = first.get_source_expressions() if hasattr(first, "get_source_expressions") else []
        first = sources[0] if sources else None
    return first.name if isinstance(first, F) else None


def is_org(name: str | None) -> bool:
    return name in {"organization", "organization_id"}


def problems_of(model: type[models.Model]) -> list[str]:
    found = []
    name = label(model)
    org = next((f for f in model._meta.concrete_fields if f.name == "organization"), None)
    if org is None or org.related_model is not Organization:
        found.append(f"{name}: no organization_id of its own")
    elif org.null:
        found.append(f"{name}: organization_id may be null")
    for f in model._meta.concrete_fields:
        if f.primary_key or (name, f.name) in PENDING:
            continue
        if f.unique:
            found.append(f"{name}.{f.name}: unique on its own, not within the organization")
        elif (
            f.db_index and not f.is_relation and (name, (f.name,)) not in CROSS_ORGANIZATION_INDEXES
        ):
            found.append(f"{name}.{f.name}: an index that does not start with organization")
    for together in model._meta.unique_together:
        if not is_org(together[0]):
            found.append(f"{name}: unique_together {together} does not start with organization")
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and not is_org(
            leading(constraint.fields, constraint.expressions)
        ):
            found.append(f"{name}: constraint {constraint.name} does not start with organization")
    for index in model._meta.indexes:
        fields = tuple(f.lstrip("-") for f in index.fields)
        if not is_org(leading(index.fields, index.expressions)) and (
            (name, fields) not in CROSS_ORGANIZATION_INDEXES
        ):
            found.append(f"{name}: index {index.name} {fields} does not start with organization")
    return found


def test_every_tenant_table_carries_organization_first_in_its_keys_and_indexes():
    problems = []
    tenant = []
    for model in apps.get_models(include_auto_created=True):
        if label(model) in GLOBAL:
            continue
        if not reaches_organization(model):
            problems.append(
                f"{label(model)}: no path to Organization; if it is global, say why in GLOBAL"
            )
            continue
        tenant.append(label(model))
        problems += problems_of(model)
    assert not problems, "\n".join(problems)
    # The walk sees the tables it must (the automatic link tables too).
    assert {"feedback.Answer", "feedback.CampaignContact", "cxplatform.ApiKey"} <= set(tenant)


def test_the_exceptions_name_what_exists():
    models_by_label = {label(m): m for m in apps.get_models(include_auto_created=True)}
    assert set(GLOBAL) <= set(models_by_label), set(GLOBAL) - set(models_by_label)
    for name, field in PENDING:
        assert models_by_label[name]._meta.get_field(field).unique, (name, field)
    for name, fields in CROSS_ORGANIZATION_INDEXES:
        model = models_by_label[name]
        declared = {tuple(f.lstrip("-") for f in i.fields) for i in model._meta.indexes}
        declared |= {(f.name,) for f in model._meta.concrete_fields if f.db_index}
        assert fields in declared, (name, fields)


def test_the_walk_fails_on_a_table_keyed_without_its_organization():
    """The check itself: a model like the old answers (unique per response and question,
    no organization first) is refused."""

    class Broken(models.Model):  # noqa: DJ008 - never saved
        organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
        code = models.CharField(max_length=10, unique=True)
        other = models.IntegerField(db_index=True)

        class Meta:
            app_label = "cxplatform"
            constraints = [models.UniqueConstraint(fields=["other", "code"], name="x_broken")]
            indexes = [models.Index(fields=["-other"], name="x_broken_idx")]

    try:
        found = problems_of(Broken)
    finally:
        apps.all_models["cxplatform"].pop("broken", None)
        apps.clear_cache()
    assert len(found) == 4, found
