"""Tracking: what happened to an email after it left. The open pixel, and the bounces
and complaints reported by the mail provider (or an integration). Unsubscribes belong to
the contact: ``feedback.services.contacts.contact_unsubscribe``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from feedback import tokens
from feedback.models import Contact, DeliveryEvent, Invitation, InvitationStatus
from feedback.services import contacts


def invitation_opened(*, token: str, now: datetime | None = None) -> bool:
    """The open pixel was fetched: set ``opened_at`` once (sent → opened). Only the first
    open changes anything, so a repeated or scanned pixel is harmless."""
    now = now or timezone.now()
    invitation = (
        Invitation.objects.filter(**tokens.lookup(token)).only("pk", "organization_id").first()
    )
    if invitation is None:
        return False
    first = Invitation.objects.filter(pk=invitation.pk, opened_at__isnull=True).update(
        opened_at=now
    )
    Invitation.objects.filter(pk=invitation.pk, status=InvitationStatus.SENT).update(
        status=InvitationStatus.OPENED
    )
    if first:
        DeliveryEvent.objects.create(
            organization_id=invitation.organization_id,
            invitation_id=invitation.pk,
            kind=DeliveryEvent.Kind.OPEN,
        )
    return bool(first)


@transaction.atomic
def delivery_report(
    *,
    org: Any,
    kind: str,
    invitation: Invitation | None = None,
    email: str = "",
    detail: str = "",
    permanent: bool = True,
    now: datetime | None = None,
) -> DeliveryEvent:
    """Record a bounce or a complaint reported by the mail provider (or an integration).

    A permanent (hard) bounce marks the contact bounced and the invitation bounced; a
    complaint ("this is spam") unsubscribes the contact. Either way their queued
    invitations are suppressed at once. A soft bounce is only recorded. Repeating a report
    adds an event and changes nothing else.
    """
    now = now or timezone.now()
    contact = None
    if invitation is not None:
        contact = invitation.contact
    elif email:
        contact = Contact.objects.for_org(org).filter(email__iexact=email.strip()).first()
    if contact is None:
        raise ValueError("No invitation or contact of this organization matches the report.")
    if kind == DeliveryEvent.Kind.BOUNCE and permanent:
        Contact.objects.filter(pk=contact.pk, bounced_at__isnull=True).update(
            bounced_at=now, suppression_reason=f"bounced: {detail}"[:200]
        )
        if invitation is not None:
            Invitation.objects.filter(
                pk=invitation.pk, status__in=[InvitationStatus.SENT, InvitationStatus.OPENED]
            ).update(status=InvitationStatus.BOUNCED, last_error=detail[:2000])
        contacts.contact_suppress_pending(contact_id=contact.pk, reason="bounced")
    elif kind == DeliveryEvent.Kind.COMPLAINT:
        Contact.objects.filter(pk=contact.pk, unsubscribed_at__isnull=True).update(
            unsubscribed_at=now, suppression_reason=f"complaint: {detail}"[:200]
        )
        contacts.contact_suppress_pending(contact_id=contact.pk, reason="unsubscribed")
    return DeliveryEvent.objects.create(
        organization=org,
        invitation=invitation,
        contact=contact,
        kind=kind,
        detail=(detail if permanent or kind != DeliveryEvent.Kind.BOUNCE else f"soft: {detail}")[
            :2000
        ],
        created_at=now,
    )
