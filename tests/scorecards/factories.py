from __future__ import annotations

import factory

from scorecards.models import Employee
from tests.factories import OrganizationFactory


class EmployeeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Employee

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"employee{n}@staff.example")
