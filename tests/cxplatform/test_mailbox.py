"""The demo mailbox: reading an email there is not the customer opening it, and its
search says when nothing matches."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cxplatform import mail
from cxplatform.models import MailboxMessage
from feedback.models import Invitation, InvitationStatus
from feedback.services import email as email_render
from tests.feedback.factories import InvitationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def demo_mailbox(settings):
    settings.MAILERS = {"default": {"BACKEND": "cxplatform.mail.MailboxBackend"}}


@pytest.fixture
def delivered(org) -> Invitation:
    """A survey invitation sent to the demo mailbox, as a campaign sends it."""
    invitation = InvitationFactory(organization=org, status=InvitationStatus.SENT)
    email_render.render_invitation(invitation).message().send()
    return invitation


def test_the_stored_email_carries_the_open_pixel(delivered):
    # What the tests below rely on: the real email has its tracking pixel.
    assert f"/o/{delivered.token}.gif" in MailboxMessage.objects.get().html_body


def test_reading_an_invitation_in_the_mailbox_does_not_mark_it_opened(manager, delivered):
    message = MailboxMessage.objects.get()
    page = manager.get(reverse("mailbox_message", args=[message.pk]))
    assert page.status_code == 200
    assert "does not mark the invitation as opened" in page.content.decode()
    html = manager.get(reverse("mailbox_message_html", args=[message.pk])).content.decode()
    assert f"/o/{delivered.token}.gif" not in html
    assert f"/s/{delivered.token}/" in html  # the survey links stay
    delivered.refresh_from_db()
    assert delivered.opened_at is None
    assert delivered.status == InvitationStatus.SENT


def test_the_mailbox_copy_renders_in_standards_mode_and_fits_a_phone():
    html = mail.mailbox_html("<!doctype html><html><head><title>t</title></head><body>x</body>")
    assert html.startswith("<!doctype html>")  # no quirks mode
    assert '<head><base target="_top"><style>' in html
    assert "img { max-width: 100%" in html
    assert mail.mailbox_html("<p>bare</p>").startswith('<base target="_top">')


@pytest.mark.parametrize(
    ("tag", "removed"),
    [
        ('<img src="http://testserver/o/abc.gif" alt="">', True),
        ("<img src='/o/abc.gif'>", True),
        ('<img src="https://tracker.example/p.png" width="1" height="1">', True),
        ('<img src="https://cdn.example/logo.png" width="120" height="40" alt="Logo">', False),
        ('<img src="/static/img/favicon.svg" width="16" height="16">', False),
    ],
)
def test_only_tracking_pixels_are_removed(tag, removed):
    html = mail.mailbox_html(f"<p>Hello</p>{tag}")
    assert (tag not in html) is removed


def test_a_search_without_results_says_so(manager, delivered):
    response = manager.get(reverse("mailbox"), {"q": "nobody@nowhere.example"})
    html = response.content.decode()
    assert "No messages match “nobody@nowhere.example”" in html
    assert "The mailbox is empty" not in html
    assert "Show all messages" in html


def test_an_empty_mailbox_says_it_is_empty(manager):
    html = manager.get(reverse("mailbox")).content.decode()
    assert "The mailbox is empty" in html


def test_the_mailbox_search_finds_by_recipient(manager, delivered):
    response = manager.get(reverse("mailbox"), {"q": delivered.contact.email})
    assert list(response.context["page"].object_list) == [MailboxMessage.objects.get()]
