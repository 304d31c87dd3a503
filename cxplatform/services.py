"""Business operations of the core: organizations, members, teams, employees, API keys,
audit."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, models, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from cxplatform import queue
from cxplatform.models import (
    ApiKey,
    ApiKeyDirectory,
    AuditEvent,
    Employee,
    Membership,
    Organization,
    Role,
    Team,
    WorkerHeartbeat,
)

User = get_user_model()


@dataclass(frozen=True)
class Actor:
    """Who is acting: a staff user, an API key, or the system (user and key both None)."""

    user: Any = None
    api_key: ApiKey | None = None

    @classmethod
    def from_request(cls, request: Any) -> Actor:
        api_key = getattr(request, "auth", None)
        if isinstance(api_key, ApiKey):
            return cls(api_key=api_key)
        user = getattr(request, "user", None)
        return cls(user=user if user is not None and user.is_authenticated else None)


SYSTEM = Actor()


def audit(
    *,
    org: Organization,
    actor: Actor,
    action: str,
    obj: models.Model | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record who changed what. Call it inside the service's transaction."""
    return AuditEvent.objects.create(
        organization=org,
        actor_user=actor.user,
        actor_api_key=actor.api_key,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        changes=changes or {},
    )


def diff(instance: models.Model, data: dict[str, Any]) -> dict[str, list[Any]]:
    """The fields of ``data`` that differ from ``instance``, as {field: [old, new]}."""
    changes = {}
    for field, new in data.items():
        old = getattr(instance, field, None)
        if old != new:
            changes[field] = [_jsonable(old), _jsonable(new)]
    return changes


def _jsonable(value: Any) -> Any:
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, str | int | float | bool | type(None) | list | dict):
        return value
    return str(value)


def update_fields(
    *,
    instance: models.Model,
    data: dict[str, Any],
    actor: Actor,
    action: str,
    validate_constraints: bool = True,
) -> models.Model:
    """Apply ``data`` to ``instance``, save what changed and audit it. Inside a transaction.

    ``validate_constraints=False`` leaves the unique constraints to the database (the
    caller turns its IntegrityError into a field error), instead of a query before."""
    changes = diff(instance, data)
    if not changes:
        return instance
    for field, value in data.items():
        setattr(instance, field, value)
    instance.full_clean(validate_constraints=validate_constraints)
    instance.save()
    org = instance if isinstance(instance, Organization) else instance.organization
    audit(org=org, actor=actor, action=action, obj=instance, changes=changes)
    return instance


@transaction.atomic
def organization_create(
    *, slug: str, name: str, admin_email: str | None = None, actor: Actor = SYSTEM
) -> Organization:
    """Create an organization (or return the existing one with that slug).

    With ``admin_email``, that user (created if new, without a usable password) becomes
    an admin member and, being new, is emailed an invitation to choose a password (see
    ``membership_set``). Safe to repeat.
    """
    org, created = Organization.objects.get_or_create(slug=slug, defaults={"name": name})
    if created:
        audit(org=org, actor=actor, action="organization.created", obj=org)
    if admin_email:
        user = user_get_or_create(email=admin_email)
        membership_set(org=org, user=user, role=Role.ADMIN, actor=actor)
    return org


@transaction.atomic
def organization_update(*, org: Organization, data: dict[str, Any], actor: Actor) -> Organization:
    return update_fields(instance=org, data=data, actor=actor, action="organization.updated")


def user_get_or_create(*, email: str, name: str = "", password: str | None = None) -> Any:
    email = User.objects.normalize_email(email).lower()
    first, _, last = name.partition(" ")
    user, created = User.objects.get_or_create(
        username=email, defaults={"email": email, "first_name": first, "last_name": last}
    )
    if created or password:
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
    return user


@transaction.atomic
def member_add(
    *,
    org: Organization,
    email: str,
    name: str = "",
    role: str,
    team: Team | None = None,
    actor: Actor,
) -> tuple[Membership, bool]:
    """Add the person with ``email`` to ``org`` (or change their role and team).

    Returns the membership and whether this call invited them: a person who is new to
    ``org`` and has no password yet gets an email to choose one (``membership_set``).
    """
    user = user_get_or_create(email=email, name=name)
    is_new = not Membership.objects.filter(organization=org, user=user).exists()
    membership = membership_set(org=org, user=user, role=role, team=team, actor=actor)
    return membership, is_new and not user.has_usable_password()


@transaction.atomic
def membership_set(
    *, org: Organization, user: Any, role: str, team: Team | None = None, actor: Actor = SYSTEM
) -> Membership:
    """Give ``user`` the ``role`` in ``org`` (creating the membership if needed).

    A new member who has no password yet (a person the platform has never seen, or one
    who never accepted an earlier invitation) is emailed an invitation to choose one,
    after the commit. Safe to repeat: only the call that creates the membership invites.
    """
    membership, created = Membership.objects.get_or_create(
        organization=org, user=user, defaults={"role": role, "team": team}
    )
    if created:
        audit(
            org=org,
            actor=actor,
            action="membership.created",
            obj=membership,
            changes={"role": [None, role]},
        )
        if not user.has_usable_password():
            member_invite(membership=membership, actor=actor)
    elif membership.role != role or (team is not None and membership.team_id != team.pk):
        update_fields(
            instance=membership,
            data={"role": role, "team": team or membership.team},
            actor=actor,
            action="membership.updated",
        )
    return membership


def member_invite(*, membership: Membership, actor: Actor = SYSTEM) -> None:
    """Email ``membership``'s person a link to choose a password, once the current
    transaction commits (the worker must find the row; no email for a rolled-back add)."""
    inviter = ""
    if actor.user is not None:
        inviter = actor.user.get_full_name() or actor.user.email
    queue.enqueue("cxplatform.tasks.member_invitation_send", membership.pk, inviter)


def member_invitation_send(*, membership_id: int, inviter: str = "") -> bool:
    """Send the invitation email: who invited whom to which organization, and a link
    (Django's password-reset token) to choose a password. Returns False, sending nothing,
    when the membership is gone or its person has chosen a password meanwhile. Sending
    twice sends two emails with equally valid links; the first password chosen makes
    every earlier link invalid."""
    membership = (
        Membership.objects.select_related("organization", "user").filter(pk=membership_id).first()
    )
    if membership is None or membership.user.has_usable_password() or not membership.user.email:
        return False
    user = membership.user
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    context = {
        "org": membership.organization,
        "user": user,
        "role": membership.get_role_display(),
        "inviter": inviter,
        "link": settings.SITE_URL + path,
        "reset_url": settings.SITE_URL + reverse("password_reset"),
        "valid_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
    }
    subject = render_to_string("registration/invitation_subject.txt", context)
    EmailMessage(
        subject=" ".join(subject.split()),
        body=render_to_string("registration/invitation_email.txt", context),
        to=[user.email],
    ).send()
    return True


@transaction.atomic
def membership_remove(*, membership: Membership, actor: Actor) -> None:
    audit(org=membership.organization, actor=actor, action="membership.removed", obj=membership)
    membership.delete()


@transaction.atomic
def team_create(*, org: Organization, name: str, description: str = "", actor: Actor) -> Team:
    team = Team(organization=org, name=name, description=description)
    team.full_clean()
    team.save()
    audit(org=org, actor=actor, action="team.created", obj=team)
    return team


@transaction.atomic
def team_update(*, team: Team, data: dict[str, Any], actor: Actor) -> Team:
    return update_fields(instance=team, data=data, actor=actor, action="team.updated")


@transaction.atomic
def team_delete(*, team: Team, actor: Actor) -> None:
    audit(org=team.organization, actor=actor, action="team.deleted", obj=team)
    team.delete()


EMPLOYEE_FIELDS = ["name", "email", "external_id", "team", "manager", "active"]


def _employee_save(employee: Employee) -> None:
    """Validate and save; the external id's uniqueness is the database's constraint, its
    violation the same field error as a form's."""
    if employee.manager_id is not None and employee.manager_id == employee.pk:
        raise ValidationError({"manager": ["An employee cannot be their own manager."]})
    employee.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            employee.save()
    except IntegrityError:
        raise ValidationError(
            {"external_id": [f"Another employee already has the id “{employee.external_id}”."]}
        ) from None


@transaction.atomic
def employee_create(*, org: Organization, actor: Actor, **data: Any) -> Employee:
    """Add an employee (``data``: any of ``EMPLOYEE_FIELDS``; team and manager of ``org``)."""
    employee = Employee(organization=org, **{k: v for k, v in data.items() if k in EMPLOYEE_FIELDS})
    _employee_save(employee)
    audit(org=org, actor=actor, action="employee.created", obj=employee)
    return employee


@transaction.atomic
def employee_update(*, employee: Employee, data: dict[str, Any], actor: Actor) -> Employee:
    data = {k: v for k, v in data.items() if k in EMPLOYEE_FIELDS}
    changes = diff(employee, data)
    if not changes:
        return employee
    for field, value in data.items():
        setattr(employee, field, value)
    _employee_save(employee)
    audit(
        org=employee.organization,
        actor=actor,
        action="employee.updated",
        obj=employee,
        changes=changes,
    )
    return employee


@transaction.atomic
def employee_delete(*, employee: Employee, actor: Actor) -> None:
    """Remove an employee. Answers attributed to them keep their scores but lose the
    attribution; to keep it, deactivate instead (``active`` False)."""
    audit(org=employee.organization, actor=actor, action="employee.deleted", obj=employee)
    employee.delete()


@transaction.atomic
def api_key_create(
    *, org: Organization, name: str, role: str = Role.MANAGER, actor: Actor = SYSTEM
) -> tuple[ApiKey, str]:
    """Make a key. Returns the row and the raw key, which is never stored or shown again."""
    raw = settings.CX_API_KEY_PREFIX + secrets.token_urlsafe(32)
    hashed = ApiKey.hash(raw)
    ApiKeyDirectory.objects.create(hashed_key=hashed, organization=org)
    key = ApiKey.objects.create(
        organization=org,
        name=name,
        role=role,
        prefix=raw[:10],
        hashed_key=hashed,
        created_by=actor.user,
    )
    audit(org=org, actor=actor, action="api_key.created", obj=key)
    return key, raw


@transaction.atomic
def api_key_revoke(*, key: ApiKey, actor: Actor) -> ApiKey:
    """Revoke a key; it stops working at once. Revoking twice changes nothing."""
    updated = ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if updated:
        audit(org=key.organization, actor=actor, action="api_key.revoked", obj=key)
    key.refresh_from_db()
    return key


def api_key_authenticate(raw_key: str) -> ApiKey | None:
    """The active key for ``raw_key``, its last-used time refreshed (at most once a minute).

    The directory names the key's organization first; the key is then read within it
    (on a distributed database, from that organization's shard alone)."""
    hashed = ApiKey.hash(raw_key)
    org_id = (
        ApiKeyDirectory.objects.filter(hashed_key=hashed)
        .values_list("organization_id", flat=True)
        .first()
    )
    if org_id is None:
        return None
    key = (
        ApiKey.objects.active()
        .select_related("organization")
        .filter(organization_id=org_id, hashed_key=hashed)
        .first()
    )
    if key is None:
        return None
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(organization_id=org_id, pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


def worker_heartbeat(*, worker: str) -> WorkerHeartbeat:
    """Upsert the worker's heartbeat row (one row per worker, however often it beats)."""
    beat, created = WorkerHeartbeat.objects.get_or_create(
        worker=worker, defaults={"seen_at": timezone.now(), "tasks_seen": 1}
    )
    if not created:
        WorkerHeartbeat.objects.filter(pk=beat.pk).update(
            seen_at=timezone.now(), tasks_seen=models.F("tasks_seen") + 1
        )
        beat.refresh_from_db()
    return beat
