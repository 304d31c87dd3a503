"""Factories of the core. Each app's factories live in tests/<app>/factories.py.

Every business factory takes ``organization`` and passes it down to its sub-factories, so
``SomeFactory(organization=org)`` builds a whole tree inside one organization. The
tenant-isolation test relies on that.
"""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from cxplatform import services
from cxplatform.models import Employee, Membership, Organization, Role, Team


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Company {n}")
    slug = factory.Sequence(lambda n: f"company-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    username = factory.SelfAttribute("email")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password("pw")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Team {n}")


class EmployeeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Employee

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"employee{n}@staff.example")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.VIEWER


def api_key_for(org: Organization, role: str = Role.MANAGER) -> str:
    """A raw API key of ``org`` (what an integration sends)."""
    _, raw = services.api_key_create(org=org, name=f"test key {role}", role=role)
    return raw
