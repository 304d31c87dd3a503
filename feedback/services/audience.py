"""Who a campaign asks: the audience (all contacts, a filter, a saved segment, an uploaded
list) and who of it is suppressed, with the reason, before anything is sent.

Suppression reasons, checked in this order (the first that applies is kept):
``unsubscribed``, ``bounced``, ``invalid email``, ``fatigued`` (surveyed in the last F
days, by any campaign or the API: ``Contact.last_surveyed_at`` or an invitation sent).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from feedback.models import AudienceType, Campaign, Contact, Invitation

UNSUBSCRIBED = "unsubscribed"
BOUNCED = "bounced"
INVALID = "invalid email"
FATIGUED = "fatigued"
CANCELLED = "cancelled"
REASONS = [UNSUBSCRIBED, BOUNCED, INVALID, FATIGUED]

# The filter keys an audience filter may use, with the ORM lookup each one becomes.
FILTER_FIELDS: dict[str, str] = {
    "email__endswith": "email__iendswith",
    "email__icontains": "email__icontains",
    "name__icontains": "name__icontains",
    "company": "company__iexact",
    "company__icontains": "company__icontains",
    "locale": "locale__iexact",
    "time_zone": "time_zone",
    "external_id": "external_id",
}


# How each filter key reads to a person ("Company contains “Redfern”").
FILTER_WORDS: dict[str, str] = {
    "email__endswith": "Email ends with",
    "email__icontains": "Email contains",
    "name__icontains": "Name contains",
    "company": "Company is",
    "company__icontains": "Company contains",
    "locale": "Language is",
    "time_zone": "Time zone is",
    "external_id": "External id is",
}


# Staff read English: language names in English, not in the language itself.
_LANGUAGE_NAMES = {"en": "English", "de": "German", "fr": "French"}


def describe_filter(spec: dict[str, Any] | None) -> list[str]:
    """The filter in words, one phrase per condition, in the order of FILTER_FIELDS
    (empty conditions, which match everyone, are left out)."""
    spec = spec or {}
    languages = dict(settings.LANGUAGES)
    phrases = []
    for key, words in FILTER_WORDS.items():
        value = spec.get(key)
        if value in (None, ""):
            continue
        if key == "locale" and str(value).lower() in languages:
            code = str(value).lower()
            phrases.append(f"{words} {_LANGUAGE_NAMES.get(code, languages[code])} ({code})")
        else:
            phrases.append(f"{words} “{value}”")
    for name, value in (spec.get("attributes") or {}).items():
        shown = ("yes" if value else "no") if isinstance(value, bool) else value
        phrases.append(f"{name} is “{shown}”")
    return phrases


def validate_filter(value: Any) -> dict[str, Any]:
    """Check an audience filter's shape; raise ValidationError naming what is wrong.

    Shape: ``{"attributes": {"plan": "pro", …}, "locale": "de", "email__endswith": "@x.com"}``.
    """
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise ValidationError("The filter must be a JSON object.")
    unknown = sorted(set(value) - set(FILTER_FIELDS) - {"attributes"})
    if unknown:
        allowed = ", ".join(["attributes", *FILTER_FIELDS])
        raise ValidationError(f"Unknown filter key(s): {', '.join(unknown)}. Allowed: {allowed}.")
    attributes = value.get("attributes", {})
    if not isinstance(attributes, dict):
        raise ValidationError('"attributes" must be an object of attribute: value.')
    for key, item in attributes.items():
        if not isinstance(key, str) or not key.replace("_", "").replace("-", "").isalnum():
            raise ValidationError(f"Attribute names are letters, digits, - and _: {key!r}.")
        if not isinstance(item, str | int | float | bool) or item is None:
            raise ValidationError(f"Attribute {key!r}: the value must be text, a number or a flag.")
        if isinstance(item, str) and "\x00" in item:
            raise ValidationError(f"Attribute {key!r} contains a NUL character.")
    for key in FILTER_FIELDS:
        if key in value and not isinstance(value[key], str):
            raise ValidationError(f"{key!r} must be text.")
        # PostgreSQL stores no NUL in text or jsonb: saving the filter would fail.
        if key in value and "\x00" in value[key]:
            raise ValidationError(f"{key!r} contains a NUL character.")
    return value


def apply_filter(contacts: QuerySet[Contact], spec: dict[str, Any]) -> QuerySet[Contact]:
    spec = validate_filter(spec)
    for key, lookup in FILTER_FIELDS.items():
        if key in spec and spec[key] != "":
            contacts = contacts.filter(**{lookup: spec[key]})
    for name, value in spec.get("attributes", {}).items():
        contacts = contacts.filter(**{f"attributes__{name}": value})
    return contacts


def audience(campaign: Campaign) -> QuerySet[Contact]:
    """Every contact the campaign targets, suppressed ones included."""
    contacts = Contact.objects.for_org(campaign.organization_id)
    if campaign.audience_type == AudienceType.FILTER:
        return apply_filter(contacts, campaign.audience_filter or {})
    if campaign.audience_type == AudienceType.SEGMENT:
        if campaign.segment_id is None:
            return contacts.none()
        return apply_filter(contacts, campaign.segment.filter or {})
    if campaign.audience_type == AudienceType.LIST:
        return contacts.filter(listed_in_campaigns=campaign)
    return contacts


def fatigue_cutoff(campaign: Campaign, now: datetime) -> datetime | None:
    return now - timedelta(days=campaign.fatigue_days) if campaign.fatigue_days else None


def with_suppression(campaign: Campaign, contacts: QuerySet[Contact], now: datetime) -> QuerySet:
    """Annotate ``fatigued`` (surveyed within the campaign's fatigue window)."""
    cutoff = fatigue_cutoff(campaign, now)
    if cutoff is None:
        return contacts.annotate(fatigued=Q(pk__isnull=True))  # always false
    recent = Invitation.objects.filter(contact=OuterRef("pk"), sent_at__gte=cutoff)
    if campaign.pk:
        recent = recent.exclude(campaign_id=campaign.pk)
    return contacts.annotate(fatigued=Q(last_surveyed_at__gte=cutoff) | Exists(recent))


def valid_email(address: str) -> bool:
    try:
        validate_email(address)
    except ValidationError:
        return False
    return True


def reason_for(row: dict[str, Any]) -> str:
    """The suppression reason of a contact row (values of with_suppression), or ''."""
    if row["unsubscribed_at"] is not None:
        return UNSUBSCRIBED
    if row["bounced_at"] is not None:
        return BOUNCED
    if not valid_email(row["email"]):
        return INVALID
    if row["fatigued"]:
        return FATIGUED
    return ""


ROW_FIELDS = ("pk", "email", "unsubscribed_at", "bounced_at", "fatigued")


def classified(campaign: Campaign, *, now: datetime | None = None) -> Iterator[tuple[int, str]]:
    """(contact id, suppression reason or '') for every contact of the audience, streamed."""
    rows = with_suppression(campaign, audience(campaign), now or timezone.now())
    for row in rows.order_by("pk").values(*ROW_FIELDS).iterator(chunk_size=5000):
        yield row["pk"], reason_for(row)


@dataclass
class Preview:
    total: int = 0
    eligible: int = 0
    suppressed: Counter = field(default_factory=Counter)
    sample: list[Contact] = field(default_factory=list)

    @property
    def suppressed_total(self) -> int:
        return sum(self.suppressed.values())

    def suppressed_items(self) -> list[tuple[str, int]]:
        return [(reason, self.suppressed[reason]) for reason in REASONS if self.suppressed[reason]]


def preview(campaign: Campaign, *, sample_size: int = 10, now: datetime | None = None) -> Preview:
    """Who would receive the campaign if launched now: counts, reasons, and a sample."""
    result = Preview()
    sample_ids: list[int] = []
    for pk, reason in classified(campaign, now=now):
        result.total += 1
        if reason:
            result.suppressed[reason] += 1
        else:
            result.eligible += 1
            if len(sample_ids) < sample_size:
                sample_ids.append(pk)
    result.sample = list(Contact.objects.filter(pk__in=sample_ids).order_by("pk"))
    return result
