from __future__ import annotations

import factory

from journeys.models import Channel, Component, Journey, Phase, Stage, Touchpoint
from tests.factories import OrganizationFactory

SAME_ORG = factory.SelfAttribute("..organization")


class JourneyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Journey

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Journey {n}")
    persona = "Online shopper"


class StageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Stage

    organization = factory.SubFactory(OrganizationFactory)
    journey = factory.SubFactory(JourneyFactory, organization=SAME_ORG)
    name = factory.Sequence(lambda n: f"Stage {n}")
    phase = Phase.ENGAGEMENT
    position = factory.Sequence(lambda n: n)


class TouchpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Touchpoint

    organization = factory.SubFactory(OrganizationFactory)
    stage = factory.SubFactory(StageFactory, organization=SAME_ORG)
    name = factory.Sequence(lambda n: f"Touchpoint {n}")
    channel = Channel.WEB
    component = Component.SERVICE
    position = factory.Sequence(lambda n: n)
