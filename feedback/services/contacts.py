"""Contacts: create, update, unsubscribe (also from an email's link, which suppresses
their queued invitations at once); and the field rules the CSV import shares.

An email is stored lower-cased and is unique per organization (a constraint on
``Lower(email)``), so "create if new" is a get-or-create that survives a concurrent
insert of the same address.
"""

from __future__ import annotations

import functools
import math
import re
import zoneinfo
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from cxplatform.models import Organization
from cxplatform.services import Actor, audit, update_fields
from feedback.models import Contact, DeliveryEvent, Invitation, InvitationStatus

# The contact fields a CSV column or an API field may set; anything else is an attribute.
PROFILE_FIELDS = ("email", "name", "company", "external_id", "locale", "time_zone")
MAX_LENGTHS = {"email": 254, "name": 200, "company": 200, "external_id": 100, "time_zone": 64}
ATTRIBUTE_KEY_MAX = 60
ATTRIBUTE_VALUE_MAX = 500
MAX_ATTRIBUTES = 50

_LOCALE_RE = re.compile(r"^([a-zA-Z]{2,3})(?:[-_]([a-zA-Z]{2}|[0-9]{3}|[a-zA-Z]{4}))?$")
_KEY_RE = re.compile(r"[^0-9a-z]+")


def normalize_email(value: str) -> str:
    """The stored form of an address (trimmed, lower-case). Raises ValidationError."""
    email = (value or "").strip().lower()
    if not email:
        raise ValidationError("Missing email address.", code="required")
    if len(email) > MAX_LENGTHS["email"]:
        raise ValidationError(
            f"Email address is too long ({len(email)} characters, at most 254).", code="max_length"
        )
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError(f"Invalid email address “{email}”.", code="invalid") from None
    return email


def normalize_locale(value: str) -> str:
    """``de``, ``de-CH``, ``pt_BR`` → ``de``, ``de-CH``, ``pt-BR``; '' stays ''."""
    value = (value or "").strip()
    if not value:
        return ""
    match = _LOCALE_RE.match(value)
    if not match:
        shown = value if len(value) <= 20 else f"{value[:20]}…"
        raise ValidationError(
            f"Unknown locale “{shown}” (use a language code such as en, de or pt-BR).",
            code="invalid",
        )
    language, region = match.group(1).lower(), match.group(2)
    if not region:
        return language
    region = region.title() if len(region) == 4 else region.upper()
    return f"{language}-{region}"


@functools.cache
def _time_zones() -> dict[str, str]:
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def normalize_time_zone(value: str) -> str:
    """An IANA time zone in its canonical spelling (``europe/berlin`` → ``Europe/Berlin``)."""
    value = (value or "").strip()
    if not value:
        return ""
    canonical = _time_zones().get(value.lower())
    if canonical is None:
        raise ValidationError(
            f"Unknown time zone “{value[:40]}” (use an IANA name such as Europe/Berlin).",
            code="invalid",
        )
    return canonical


def attribute_key(header: str) -> str:
    """A column header or key as an attribute key: ``Customer since`` → ``customer_since``."""
    return _KEY_RE.sub("_", (header or "").strip().lower()).strip("_")[:ATTRIBUTE_KEY_MAX]


def clean_attributes(attributes: Any) -> dict[str, str | int | float | bool | None]:
    """Flat JSON of scalar values, keys normalised. Raises ValidationError."""
    if attributes in (None, ""):
        return {}
    if not isinstance(attributes, dict):
        raise ValidationError("Attributes must be an object of key → value.", code="invalid")
    if len(attributes) > MAX_ATTRIBUTES:
        raise ValidationError(f"At most {MAX_ATTRIBUTES} attributes.", code="invalid")
    cleaned: dict[str, Any] = {}
    for raw_key, value in attributes.items():
        if len(str(raw_key)) > ATTRIBUTE_KEY_MAX:
            raise ValidationError(
                f"Attribute name “{str(raw_key)[:20]}…” is too long (at most {ATTRIBUTE_KEY_MAX})."
            )
        key = attribute_key(str(raw_key))
        if not key:
            raise ValidationError(f"Attribute name “{raw_key}” has no letters or digits.")
        if key in PROFILE_FIELDS:
            raise ValidationError(f"“{key}” is a contact field, not an attribute.")
        if not isinstance(value, str | int | float | bool | type(None)) or (
            isinstance(value, float) and not math.isfinite(value)
        ):
            raise ValidationError(f"Attribute “{key}” must be text, a number or true/false.")
        if "\x00" in str(raw_key) or (isinstance(value, str) and "\x00" in value):
            raise ValidationError(f"Attribute “{key}” contains a NUL character.")
        if isinstance(value, str):
            value = value.strip()
            if len(value) > ATTRIBUTE_VALUE_MAX:
                raise ValidationError(
                    f"Attribute “{key}” is too long (at most {ATTRIBUTE_VALUE_MAX} characters)."
                )
        cleaned[key] = value
    return cleaned


def clean_profile(data: dict[str, Any]) -> dict[str, Any]:
    """Normalise and check the profile fields present in ``data``.

    Raises a ValidationError with a message per field, as forms and serializers expect.
    """
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for field, value in data.items():
        try:
            if field == "email":
                cleaned[field] = normalize_email(value)
            elif field == "locale":
                cleaned[field] = normalize_locale(value)
            elif field == "time_zone":
                cleaned[field] = normalize_time_zone(value)
            elif field == "attributes":
                cleaned[field] = clean_attributes(value)
            elif field in MAX_LENGTHS:
                text = (value or "").strip()
                if len(text) > MAX_LENGTHS[field]:
                    raise ValidationError(
                        f"Too long ({len(text)} characters, at most {MAX_LENGTHS[field]})."
                    )
                cleaned[field] = text
            else:
                cleaned[field] = value
        except ValidationError as exc:
            errors[field] = exc.messages
    if errors:
        raise ValidationError(errors)
    return cleaned


def _email_taken(org: Organization, email: str, exclude_pk: int | None = None) -> bool:
    qs = Contact.objects.for_org(org).filter(email=email)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


@transaction.atomic
def contact_create(*, org: Organization, actor: Actor, email: str, **fields: Any) -> Contact:
    """Create a contact. A second contact with the same address is a ValidationError."""
    data = clean_profile({"email": email, **fields})
    if _email_taken(org, data["email"]):
        raise ValidationError({"email": ["A contact with this email address already exists."]})
    contact = Contact(organization=org, **data)
    try:
        with transaction.atomic():
            contact.save()
    except IntegrityError:
        if not _email_taken(org, data["email"]):
            raise
        # The same address was inserted concurrently.
        raise ValidationError(
            {"email": ["A contact with this email address already exists."]}
        ) from None
    audit(org=org, actor=actor, action="contact.created", obj=contact)
    return contact


def contact_get_or_create(
    *, org: Organization, actor: Actor, email: str, defaults: dict[str, Any] | None = None
) -> tuple[Contact, bool]:
    """The contact with ``email`` (created with ``defaults`` if new). Safe under concurrency:
    a lost race for the same address returns the winner's row."""
    email = normalize_email(email)
    existing = Contact.objects.for_org(org).filter(email=email).first()
    if existing is not None:
        return existing, False
    data = clean_profile(defaults or {})
    try:
        with transaction.atomic():
            contact = Contact.objects.create(organization=org, email=email, **data)
            audit(org=org, actor=actor, action="contact.created", obj=contact)
    except IntegrityError:
        return Contact.objects.for_org(org).get(email=email), False
    return contact, True


@transaction.atomic
def contact_update(*, contact: Contact, data: dict[str, Any], actor: Actor) -> Contact:
    """Apply the changed fields of ``data`` (profile fields and/or ``attributes``)."""
    cleaned = clean_profile(data)
    if "email" in cleaned and _email_taken(contact.organization, cleaned["email"], contact.pk):
        raise ValidationError({"email": ["A contact with this email address already exists."]})
    try:
        with transaction.atomic():
            return update_fields(
                instance=contact, data=cleaned, actor=actor, action="contact.updated"
            )
    except IntegrityError:
        if "email" not in cleaned or not _email_taken(
            contact.organization, cleaned["email"], contact.pk
        ):
            raise
        raise ValidationError(
            {"email": ["A contact with this email address already exists."]}
        ) from None


@transaction.atomic
def contact_set_subscribed(
    *, contact: Contact, subscribed: bool, actor: Actor, reason: str = ""
) -> Contact:
    """Record that the contact wants (or no longer wants) survey emails. Idempotent."""
    if subscribed == (contact.unsubscribed_at is None):
        return contact
    data = {
        "unsubscribed_at": None if subscribed else timezone.now(),
        "suppression_reason": "" if subscribed else (reason or "Unsubscribed by staff"),
    }
    return update_fields(
        instance=contact,
        data=data,
        actor=actor,
        action="contact.resubscribed" if subscribed else "contact.unsubscribed",
    )


@transaction.atomic
def contact_delete(*, contact: Contact, actor: Actor) -> None:
    """Delete the contact and its invitations; its responses stay, without the person."""
    audit(org=contact.organization, actor=actor, action="contact.deleted", obj=contact)
    contact.delete()


def contact_suppress_pending(*, contact_id: int, reason: str) -> int:
    """Nothing more goes to this contact: their queued invitations, in every campaign."""
    return Invitation.objects.filter(contact_id=contact_id, status=InvitationStatus.PENDING).update(
        status=InvitationStatus.SUPPRESSED, suppression_reason=reason, claimed_until=None
    )


@transaction.atomic
def contact_unsubscribe(
    *, invitation: Invitation, source: str = "link", now: datetime | None = None
) -> bool:
    """Unsubscribe the invitation's contact from every survey email, at once: the contact
    is marked, their queued invitations are suppressed, and every send and reminder checks
    the contact right before it goes. Returns False if they already were unsubscribed."""
    now = now or timezone.now()
    changed = Contact.objects.filter(pk=invitation.contact_id, unsubscribed_at__isnull=True).update(
        unsubscribed_at=now, suppression_reason=f"unsubscribed ({source})"
    )
    contact_suppress_pending(contact_id=invitation.contact_id, reason="unsubscribed")
    if changed:
        DeliveryEvent.objects.create(
            organization_id=invitation.organization_id,
            invitation_id=invitation.pk,
            contact_id=invitation.contact_id,
            kind=DeliveryEvent.Kind.UNSUBSCRIBE,
            detail=source,
        )
    return bool(changed)
