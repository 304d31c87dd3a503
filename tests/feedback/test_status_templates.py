"""Templates compare statuses with the models' TextChoices (``campaign.Status.SENDING``),
not string literals: the comparison must hold for every status."""

from __future__ import annotations

import pytest
from django.template import Context, Template

from feedback.models import Campaign, CampaignStatus, ContactImport, ImportStatus


@pytest.mark.parametrize("status", list(CampaignStatus))
def test_a_campaign_status_compares_equal_to_its_choice_in_a_template(status):
    campaign = Campaign(status=status.value)
    html = Template(
        "{% for s in campaign.Status %}{% if campaign.status == s %}{{ s.name }}{% endif %}"
        "{% endfor %}|{% if campaign.status == campaign.Status.SENDING %}sending{% endif %}"
    ).render(Context({"campaign": campaign}))
    assert html == f"{status.name}|{'sending' if status == CampaignStatus.SENDING else ''}"


def test_an_import_badge_shows_its_state_through_the_choices():
    done = ContactImport(status=ImportStatus.DONE)
    html = Template("{% if imp.status == imp.Status.DONE %}finished{% endif %}").render(
        Context({"imp": done})
    )
    assert html == "finished"
