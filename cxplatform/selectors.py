"""Reads of the core, always scoped to one organization."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from cxplatform.models import (
    ApiKey,
    AuditEvent,
    Employee,
    Membership,
    Organization,
    Team,
    WorkerHeartbeat,
)


def organization(*, org: Organization) -> Organization:
    """A fresh copy of the organization, for forms that must not touch ``request.org``."""
    return Organization.objects.get(pk=org.pk)


def team_list(*, org: Organization) -> QuerySet[Team]:
    return Team.objects.for_org(org).annotate(member_count=Count("members")).order_by("name")


def employee_list(*, org: Organization) -> QuerySet[Employee]:
    return Employee.objects.for_org(org).select_related("team", "manager").order_by("name", "id")


def membership_list(*, org: Organization) -> QuerySet[Membership]:
    return (
        Membership.objects.for_org(org)
        .select_related("user", "team")
        .order_by("user__first_name", "user__email")
    )


def memberships_of(*, user: object) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("organization")


def api_key_list(*, org: Organization) -> QuerySet[ApiKey]:
    return ApiKey.objects.for_org(org).select_related("created_by")


def audit_list(*, org: Organization) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.for_org(org).select_related("actor_user", "actor_api_key")


def last_heartbeat() -> WorkerHeartbeat | None:
    return WorkerHeartbeat.objects.order_by("-seen_at").first()
