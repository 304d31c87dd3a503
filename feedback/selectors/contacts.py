"""Reads of contacts and their imports, scoped to one organization.

The list's filters (shared by the staff page and the API): ``q`` (email, name, company,
external id), ``locale``, ``status`` (subscribed / unsubscribed / bounced), ``responded``
(yes / no: has a completed response), ``attribute`` (``key=value``, or ``key`` alone for
"has the attribute").
"""

from __future__ import annotations

import math
from typing import Any

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery

from cxplatform.models import Organization
from feedback.models import Contact, ContactImport, ContactStatus, Invitation, Response
from feedback.services.contacts import attribute_key

ORDERINGS = {
    "email": ("email",),
    "name": ("name", "email"),
    "-created_at": ("-created_at", "-id"),
    "-last_surveyed_at": ("-last_surveyed_at", "email"),
}


def parse_attribute_filter(value: str) -> tuple[str, str | None]:
    """``plan=pro`` → ("plan", "pro"); ``plan`` → ("plan", None); keys normalised."""
    key, sep, wanted = (value or "").partition("=")
    return attribute_key(key), (wanted.strip() if sep else None)


def contact_list(*, org: Organization, filters: dict[str, Any] | None = None) -> QuerySet[Contact]:
    """The organization's contacts, filtered, each with ``response_count`` and
    ``last_score`` / ``last_category`` / ``last_primary_type`` of its latest completed
    response (subqueries: one query for the whole page)."""
    filters = filters or {}
    contacts = contact_filter(Contact.objects.for_org(org), filters)
    # Counted answers only (not the ones flagged as automated): the same figure as elsewhere.
    completed = Response.objects.filter(contact=OuterRef("pk")).counted()
    latest = completed.order_by("-submitted_at", "-id")
    contacts = contacts.annotate(
        response_count=Subquery(
            completed.order_by().values("contact").annotate(n=Count("pk")).values("n")[:1],
            output_field=IntegerField(),
        ),
        last_score=Subquery(latest.values("primary_score")[:1]),
        last_category=Subquery(latest.values("category")[:1]),
        last_primary_type=Subquery(latest.values("primary_type")[:1]),
    )
    ordering = ORDERINGS.get(filters.get("ordering") or "", ORDERINGS["email"])
    return contacts.order_by(*ordering)


def contact_filter(contacts: QuerySet[Contact], filters: dict[str, Any]) -> QuerySet[Contact]:
    """Apply the list's filters (see the module docstring) to ``contacts``."""
    q = (filters.get("q") or "").strip()
    if q:
        contacts = contacts.filter(
            Q(email__icontains=q)
            | Q(name__icontains=q)
            | Q(company__icontains=q)
            | Q(external_id__iexact=q)
        )
    if filters.get("locale"):
        locale = filters["locale"]
        contacts = contacts.filter(Q(locale__iexact=locale) | Q(locale__istartswith=f"{locale}-"))
    status = filters.get("status")
    if status == ContactStatus.SUBSCRIBED:
        contacts = contacts.reachable()
    elif status == ContactStatus.UNSUBSCRIBED:
        contacts = contacts.filter(unsubscribed_at__isnull=False)
    elif status == ContactStatus.BOUNCED:
        contacts = contacts.filter(bounced_at__isnull=False)
    completed = Response.objects.filter(contact=OuterRef("pk"), completed=True)
    responded = filters.get("responded")
    if responded in {"yes", True}:
        contacts = contacts.filter(Exists(completed))
    elif responded in {"no", False}:
        contacts = contacts.filter(~Exists(completed))
    if filters.get("attribute"):
        key, wanted = parse_attribute_filter(filters["attribute"])
        if key:
            if wanted is None:
                contacts = contacts.filter(attributes__has_key=key)
            else:
                contacts = contacts.filter(_attribute_equals(key, wanted))
    return contacts


def _attribute_equals(key: str, wanted: str) -> Q:
    """Match the text as typed and, when it reads as one, the number or flag (attributes
    set through the API keep their JSON types; imported ones are text)."""
    lookup = f"attributes__{key}"
    condition = Q(**{lookup: wanted})
    if wanted.lower() in {"true", "false"}:
        condition |= Q(**{lookup: wanted.lower() == "true"})
    else:
        try:
            number = float(wanted)
        except ValueError:
            return condition
        if not math.isfinite(number):
            return condition
        condition |= Q(**{lookup: int(number) if number.is_integer() else number})
    return condition


def contact_locales(*, org: Organization) -> list[str]:
    """The languages the organization's contacts have (for the filter's choices)."""
    return sorted(
        {
            (locale or "").split("-")[0]
            for locale in Contact.objects.for_org(org)
            .exclude(locale="")
            .order_by()
            .values_list("locale", flat=True)
            .distinct()[:200]
        }
    )


def attribute_keys(*, org: Organization, sample: int = 500) -> list[str]:
    """Attribute names seen on the most recent contacts (hints for the filter)."""
    keys: set[str] = set()
    for attributes in (
        Contact.objects.for_org(org)
        .order_by("-updated_at")
        .values_list("attributes", flat=True)[:sample]
    ):
        if isinstance(attributes, dict):
            keys.update(attributes)
    return sorted(keys)


def contact_import_list(*, org: Organization) -> QuerySet[ContactImport]:
    """Imports, newest first, without the file itself (``content`` is deferred)."""
    return ContactImport.objects.for_org(org).defer("content").select_related("created_by")


def invitation_list(*, org: Organization) -> QuerySet[Invitation]:
    """Invitations of the organization, newest first, with their contact."""
    return Invitation.objects.for_org(org).select_related("contact").order_by("-created_at", "-id")
