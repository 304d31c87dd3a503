"""The journeys demo data: three journeys, 15–25 touchpoints owned by the demo teams, and
safe to seed twice."""

from __future__ import annotations

import io

import pytest

from cxplatform import demo as core_demo
from journeys import demo
from journeys.models import Journey, Phase, Touchpoint

pytestmark = pytest.mark.django_db


def test_the_demo_seeds_three_journeys_once_even_when_run_twice():
    org = core_demo.seed_core()
    out = io.StringIO()

    demo.seed(org=org, stdout=out, quick=True)
    demo.seed(org=org, stdout=out, quick=True)

    journeys = Journey.objects.for_org(org)
    assert sorted(journeys.values_list("name", flat=True)) == [
        "Online shop purchase",
        "Subscription renewal",
        "Support request",
    ]
    touchpoints = Touchpoint.objects.for_org(org)
    assert 15 <= touchpoints.count() <= 25
    assert not touchpoints.filter(owner_team__isnull=True).exists()
    assert set(touchpoints.values_list("owner_team__name", flat=True)) == {
        "Customer Care",
        "E-commerce",
        "Logistics",
        "Retail Stores",
        "Billing",
    }
    assert touchpoints.filter(moment_of_truth=True).count() >= 3
    purchase = journeys.get(name="Online shop purchase")
    assert list(purchase.stages.values_list("phase", flat=True)) == [p.value for p in Phase]
    for stage in purchase.stages.all():
        positions = list(stage.touchpoints.values_list("position", flat=True))
        assert positions == list(range(len(positions)))
    assert "0 created" in out.getvalue().splitlines()[-1]
