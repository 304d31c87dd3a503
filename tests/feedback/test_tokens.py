"""The respondent's token names its organization (feedback.tokens)."""

from __future__ import annotations

import pytest

from feedback import tokens
from feedback.models import Invitation
from tests.feedback.factories import InvitationFactory


def test_a_new_token_names_its_organization_and_keeps_256_random_bits():
    token = tokens.new(42)
    assert tokens.organization_id(token) == 42
    head, secret = token.split(".")
    assert head == "42"
    assert len(secret) == 43
    assert tokens.new(42) != token


@pytest.mark.parametrize(
    "token",
    [
        "Xq3vJ6m0yVQw8dS9lYHk2pR1nB7cZtE4uF5gA0oWiL",  # an older token: no organization
        "12.",
        ".secret",
        "abc.secret",
        "١٢.secret",  # Arabic-Indic digits are digits, not an id
        "1" * 20 + ".secret",
    ],
)
def test_a_token_that_names_no_organization_gives_none(token):
    assert tokens.organization_id(token) is None


def test_every_invitation_is_found_within_its_organization_by_its_token(org, other_org):
    invitation = InvitationFactory(organization=org)
    assert tokens.organization_id(invitation.token) == org.pk
    assert tokens.lookup(invitation.token) == {"organization_id": org.pk, "token": invitation.token}
    assert Invitation.objects.get(**tokens.lookup(invitation.token)) == invitation
    # The same secret under another organization's id finds nothing.
    forged = f"{other_org.pk}.{invitation.token.split('.')[1]}"
    assert not Invitation.objects.filter(**tokens.lookup(forged)).exists()
    older = InvitationFactory(organization=org, token="Xq3vJ6m0yVQw8dS9lYHk2pR1nB7cZtE4uF5gA0oWiL")
    assert Invitation.objects.get(**tokens.lookup(older.token)) == older
