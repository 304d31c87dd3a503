"""The respondent's token names its organization (feedback.tokens)."""

from __future__ import annotations

import pytest

from feedback import tokens
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


def test_every_invitation_is_findable_in_its_organization_by_its_token(org):
    invitation = InvitationFactory(organization=org)
    assert tokens.organization_id(invitation.token) == org.pk
