"""Tracking: the open pixel, bounces and complaints."""

from __future__ import annotations

import pytest

from feedback.models import CampaignStatus, Contact, DeliveryEvent, Invitation, InvitationStatus
from feedback.services import tracking
from tests.feedback.factories import CampaignFactory, ContactFactory, InvitationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(org):
    return CampaignFactory(organization=org, status=CampaignStatus.SENDING)


def _queued(campaign, **fields):
    return [
        InvitationFactory(
            organization=campaign.organization, campaign=campaign, survey=campaign.survey, **fields
        )
    ]


def test_the_open_pixel_marks_an_invitation_opened_once(org):
    invitation = InvitationFactory(organization=org, status=InvitationStatus.SENT)
    assert tracking.invitation_opened(token=invitation.token) is True
    assert tracking.invitation_opened(token=invitation.token) is False
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.OPENED
    assert DeliveryEvent.objects.filter(kind="open").count() == 1
    responded = InvitationFactory(organization=org, status=InvitationStatus.RESPONDED)
    tracking.invitation_opened(token=responded.token)
    assert Invitation.objects.get(pk=responded.pk).status == InvitationStatus.RESPONDED


def test_a_hard_bounce_suppresses_the_address_everywhere(org, campaign):
    sent = InvitationFactory(organization=org, status=InvitationStatus.SENT)
    (queued,) = _queued(campaign, contact=sent.contact)
    tracking.delivery_report(org=org, kind="bounce", invitation=sent, detail="550 5.1.1 unknown")
    sent.refresh_from_db()
    queued.refresh_from_db()
    assert sent.status == InvitationStatus.BOUNCED
    assert (queued.status, queued.suppression_reason) == ("suppressed", "bounced")
    contact = Contact.objects.get(pk=sent.contact_id)
    assert contact.bounced_at is not None
    assert "550 5.1.1" in contact.suppression_reason


def test_a_soft_bounce_is_only_recorded(org):
    sent = InvitationFactory(organization=org, status=InvitationStatus.SENT)
    event = tracking.delivery_report(
        org=org, kind="bounce", invitation=sent, permanent=False, detail="mailbox full"
    )
    assert event.detail == "soft: mailbox full"
    assert Contact.objects.get(pk=sent.contact_id).bounced_at is None
    assert Invitation.objects.get(pk=sent.pk).status == InvitationStatus.SENT


def test_a_complaint_unsubscribes_the_contact(org):
    contact = ContactFactory(organization=org)
    tracking.delivery_report(org=org, kind="complaint", email=contact.email.upper())
    contact.refresh_from_db()
    assert contact.unsubscribed_at is not None
    assert contact.suppression_reason.startswith("complaint")
