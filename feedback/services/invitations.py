"""Invitations triggered one at a time (the API, a helpdesk closing a ticket, a shop's
checkout): one survey for one contact, created if new.

Idempotent on ``external_ref``: the database's unique constraint on (organization,
external_ref) decides, so two concurrent requests with the same reference make one
invitation and both get it back. The reference is an idempotency key for one contact: the
same reference sent for a different contact is a collision in the caller's keys, refused
with ``ExternalRefConflictError`` rather than answered with somebody else's invitation.

Each invitation has an unguessable token (256 bits from ``secrets``) and an expiry. Email
invitations are queued for the sending engine (``outbox.invitations_kick`` after
commit); ``send_email=False`` hands the link to the integration instead (channel ``link``,
counted as sent at once).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from cxplatform.models import Organization
from cxplatform.services import Actor, audit
from feedback import tokens
from feedback.models import (
    Contact,
    Invitation,
    InvitationChannel,
    InvitationStatus,
    Survey,
    SurveyStatus,
)
from feedback.services import contacts, outbox

MAX_EXPIRY_DAYS = 365


def new_token(org: Organization) -> str:
    """256 random bits, and the organization (see ``feedback.tokens``)."""
    return tokens.new(org.pk)


def survey_url(invitation: Invitation) -> str:
    """The full respondent link, for integrations that deliver it themselves."""
    return f"{settings.SITE_URL}/s/{invitation.token}/"


class ExternalRefConflictError(ValidationError):
    """``external_ref`` already names an invitation for another contact."""

    def __init__(self, invitation: Invitation) -> None:
        self.invitation = invitation
        super().__init__(
            {
                "external_ref": [
                    f"This reference is already used by invitation {invitation.pk}, which "
                    "was sent to another contact. Use a new reference for each invitation."
                ]
            }
        )


@dataclass(frozen=True)
class Triggered:
    invitation: Invitation
    created: bool


def _same_org(org: Organization, obj: Any, field: str) -> None:
    if obj is not None and obj.organization_id != org.pk:
        raise ValidationError({field: ["Not found in your organization."]})


def _expiry(now: datetime, expires_in_days: int | None) -> datetime:
    if expires_in_days is None:
        return now + settings.CX_INVITATION_TTL
    if not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
        raise ValidationError({"expires_in_days": [f"Between 1 and {MAX_EXPIRY_DAYS} days."]})
    return now + timedelta(days=expires_in_days)


def _existing(org: Organization, external_ref: str) -> Invitation | None:
    if not external_ref:
        return None
    return (
        Invitation.objects.for_org(org)
        .filter(external_ref=external_ref)
        .select_related("contact")
        .first()
    )


def _repeat(first: Invitation, contact_email: str) -> Triggered:
    """A repeat of ``first``'s reference: the same invitation if it is for the same contact."""
    try:
        email = contacts.normalize_email(contact_email)
    except ValidationError:
        email = ""
    if first.contact.email != email:
        raise ExternalRefConflictError(first)
    return Triggered(first, False)


@transaction.atomic
def invitation_trigger(
    *,
    org: Organization,
    actor: Actor,
    survey: Survey,
    contact_email: str,
    contact_name: str = "",
    locale: str = "",
    touchpoint: Any = None,
    employee: Any = None,
    external_ref: str = "",
    send_email: bool = True,
    expires_in_days: int | None = None,
) -> Triggered:
    """Invite the contact with ``contact_email`` (created if new) to ``survey``.

    The same non-empty ``external_ref`` for the same contact returns the first invitation
    unchanged (``created`` False), whatever else the repeat says; for another contact it
    raises ``ExternalRefConflictError``. Raises ValidationError by field.
    """
    external_ref = (external_ref or "").strip()
    first = _existing(org, external_ref)
    if first is not None:
        return _repeat(first, contact_email)
    _same_org(org, survey, "survey")
    _same_org(org, touchpoint, "touchpoint")
    _same_org(org, employee, "employee")
    if survey.status != SurveyStatus.ACTIVE:
        raise ValidationError({"survey": ["This survey is not active."]})
    now = timezone.now()
    expires_at = _expiry(now, expires_in_days)
    try:
        contact, _ = contacts.contact_get_or_create(
            org=org,
            actor=actor,
            email=contact_email,
            defaults={"name": contact_name, "locale": locale},
        )
    except ValidationError as exc:
        messages = exc.message_dict if hasattr(exc, "error_dict") else {"email": exc.messages}
        raise ValidationError(
            {f"contact_{k}" if k in {"email", "name"} else k: v for k, v in messages.items()}
        ) from None
    invitation = Invitation(
        organization=org,
        contact=contact,
        survey=survey,
        touchpoint=touchpoint or survey.touchpoint,
        employee=employee,
        external_ref=external_ref,
        token=new_token(org),
        expires_at=expires_at,
        created_at=now,
    )
    if send_email:
        invitation.channel = InvitationChannel.EMAIL
        invitation.status = InvitationStatus.PENDING
    else:
        # The integration delivers the link itself: it is "sent" once handed over.
        invitation.channel = InvitationChannel.LINK
        invitation.status = InvitationStatus.SENT
        invitation.sent_at = now
    try:
        with transaction.atomic():
            invitation.save()
    except IntegrityError:
        # A concurrent request with the same external_ref won the race: return its row.
        first = _existing(org, external_ref)
        if first is None:
            raise
        return _repeat(first, contact_email)
    Contact.objects.filter(pk=contact.pk).update(last_surveyed_at=now)
    audit(
        org=org,
        actor=actor,
        action="invitation.created",
        obj=invitation,
        changes={"channel": [None, invitation.channel], "external_ref": [None, external_ref]},
    )
    if send_email:
        outbox.invitations_kick()
    return Triggered(invitation, True)
