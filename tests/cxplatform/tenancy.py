"""The core's staff routes for the tenant-isolation walk (tests/test_tenant_isolation.py)."""

from __future__ import annotations

from tests.factories import EmployeeFactory, MembershipFactory, UserFactory
from tests.test_tenant_isolation import register_staff_rows

register_staff_rows(
    {
        "member_invite": lambda org: {
            "pk": MembershipFactory(organization=org, user=UserFactory()).pk
        },
        "employee_edit": lambda org: {"pk": EmployeeFactory(organization=org).pk},
        "employee_delete": lambda org: {"pk": EmployeeFactory(organization=org).pk},
    }
)
