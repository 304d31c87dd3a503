"""Adding a member: a person new to the platform is invited by email to choose a
password, follows the link, chooses it and is signed in; the password-reset page also
reaches people who never chose one."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from cxplatform import services
from cxplatform.models import Membership, Role

pytestmark = pytest.mark.django_db


def _link(message) -> str:
    """The path of the set-password link in an email."""
    url = re.search(r"https?://\S+/accounts/password-reset/\S+/", message.body).group(0)
    return url[url.index("/accounts/") :]


def _choose_password(client: Client, path: str, password: str):
    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200
    assert form_page.context["validlink"], "the link in the email must work"
    return client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": password, "new_password2": password},
        follow=True,
    )


def test_a_new_member_is_invited_chooses_a_password_and_signs_in(
    admin, org, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            reverse("member_list"),
            {"email": "Nina.New@Acme.example", "name": "Nina New", "role": "agent"},
        )
    assert response.status_code == 200
    assert "We emailed them a link to choose their password." in response.content.decode()
    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert email.to == ["nina.new@acme.example"]
    assert email.subject == "You are invited to Acme on CX Platform"
    assert "Admin" in email.body  # who invited them
    assert "as Agent" in email.body

    newcomer = Client()
    assert not newcomer.login(username="nina.new@acme.example", password="")
    done = _choose_password(newcomer, _link(email), "a-long-new-passphrase")
    assert "Your password is saved" in done.content.decode()
    # Signed in straight away, in the organization that invited them.
    dashboard = newcomer.get(reverse("dashboard"))
    assert dashboard.status_code == 200
    assert dashboard.context["current_org"] == org
    # And from now on with the email and the new password.
    assert Client().login(username="nina.new@acme.example", password="a-long-new-passphrase")
    # The link works once.
    again = Client().get(_link(email), follow=True)
    assert not again.context["validlink"]


def test_the_invitation_reaches_the_demo_mailbox(
    admin, org, settings, django_capture_on_commit_callbacks
):
    from cxplatform.models import MailboxMessage

    settings.MAILERS = {"default": {"BACKEND": "cxplatform.mail.MailboxBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(reverse("member_list"), {"email": "omar@acme.example", "role": "viewer"})
    message = MailboxMessage.objects.get()
    assert message.recipients == "omar@acme.example"
    assert "/accounts/password-reset/" in message.text_body


def test_adding_someone_who_already_has_a_password_sends_no_invitation(
    admin, org, other_org, outsider_user, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            reverse("member_list"), {"email": outsider_user.email, "role": "viewer"}
        )
    assert Membership.objects.filter(organization=org, user=outsider_user).exists()
    assert "emailed them" not in response.content.decode()
    assert mailoutbox == []


def test_changing_a_role_does_not_invite_again(
    admin, org, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(reverse("member_list"), {"email": "pat@acme.example", "role": "viewer"})
        admin.post(reverse("member_list"), {"email": "pat@acme.example", "role": "manager"})
    assert len(mailoutbox) == 1
    assert Membership.objects.get(user__email="pat@acme.example").role == Role.MANAGER


def test_an_admin_resends_a_lost_invitation(
    admin, org, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(reverse("member_list"), {"email": "lou@acme.example", "role": "viewer"})
    membership = Membership.objects.get(user__email="lou@acme.example")
    page = admin.get(reverse("member_list")).content.decode()
    assert "Invited" in page
    assert reverse("member_invite", args=[membership.pk]) in page
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(reverse("member_invite", args=[membership.pk]))
    assert [m.to for m in mailoutbox] == [["lou@acme.example"], ["lou@acme.example"]]
    # Either link works until a password is chosen.
    _choose_password(Client(), _link(mailoutbox[1]), "a-long-new-passphrase")
    assert Client().login(username="lou@acme.example", password="a-long-new-passphrase")


def test_only_admins_resend_invitations_and_only_in_their_organization(
    manager, outsider, org, mailoutbox, django_capture_on_commit_callbacks
):
    user = services.user_get_or_create(email="kim@acme.example")
    membership = Membership.objects.create(organization=org, user=user, role=Role.VIEWER)
    with django_capture_on_commit_callbacks(execute=True):
        assert manager.post(reverse("member_invite", args=[membership.pk])).status_code == 403
        assert outsider.post(reverse("member_invite", args=[membership.pk])).status_code == 404
    assert mailoutbox == []


def test_no_invitation_leaves_for_a_member_removed_before_it_was_sent(org, mailoutbox):
    user = services.user_get_or_create(email="gone@acme.example")
    membership = Membership.objects.create(organization=org, user=user)
    membership_id = membership.pk
    membership.delete()
    assert services.member_invitation_send(membership_id=membership_id) is False
    assert mailoutbox == []


def test_a_member_who_never_chose_a_password_can_use_the_reset_page(client, org, mailoutbox):
    user = services.user_get_or_create(email="quiet@acme.example")
    Membership.objects.create(organization=org, user=user)
    assert not user.has_usable_password()

    client.post(reverse("password_reset"), {"email": "Quiet@Acme.example"})
    assert len(mailoutbox) == 1
    assert mailoutbox[0].subject == "Choose a password for CX Platform"
    _choose_password(client, _link(mailoutbox[0]), "a-long-new-passphrase")
    assert Client().login(username="quiet@acme.example", password="a-long-new-passphrase")


def test_the_reset_page_still_tells_nothing_about_unknown_addresses(client, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": "nobody@acme.example"})
    assert response["Location"] == reverse("password_reset_done")
    assert mailoutbox == []


def test_the_create_organization_command_invites_its_new_admin(
    mailoutbox, django_capture_on_commit_callbacks
):
    from django.core.management import call_command

    with django_capture_on_commit_callbacks(execute=True):
        call_command("create_organization", "initech", "Initech", "--admin-email", "b@i.example")
    assert [m.to for m in mailoutbox] == [["b@i.example"]]
    assert "as Admin" in mailoutbox[0].body
