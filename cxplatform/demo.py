"""Demo data of the core: the demo organization, a user of each role, teams."""

from __future__ import annotations

from typing import Any

from cxplatform import services
from cxplatform.models import Organization, Role, Team

DEMO_SLUG = "demo"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - a printed demo login, not a secret
DEMO_USERS = [
    ("admin@demo.example", Role.ADMIN),
    ("manager@demo.example", Role.MANAGER),
    ("agent@demo.example", Role.AGENT),
    ("viewer@demo.example", Role.VIEWER),
]
DEMO_NAMES = {
    "admin@demo.example": "Alex Admin",
    "manager@demo.example": "Maya Manager",
    "agent@demo.example": "Sam Agent",
    "viewer@demo.example": "Vic Viewer",
}
DEMO_TEAMS = [
    ("Customer Care", "Phone, chat and email support."),
    ("E-commerce", "The web shop and the app."),
    ("Logistics", "Warehouses, carriers and deliveries."),
    ("Retail Stores", "The flagship stores and their staff."),
    ("Billing", "Invoices, payments and subscriptions."),
]


def seed_core(*, stdout: Any = None) -> Organization:
    org = services.organization_create(slug=DEMO_SLUG, name="Northwind Outfitters")
    if not org.sender_name:
        Organization.objects.filter(pk=org.pk).update(
            sender_name="Northwind Outfitters", time_zone="Europe/Berlin"
        )
        org.refresh_from_db()
    teams = {}
    for name, description in DEMO_TEAMS:
        teams[name], _ = Team.objects.get_or_create(
            organization=org, name=name, defaults={"description": description}
        )
    for email, role in DEMO_USERS:
        user = services.user_get_or_create(
            email=email, name=DEMO_NAMES[email], password=DEMO_PASSWORD
        )
        team = teams["Customer Care"] if role == Role.AGENT else None
        services.membership_set(org=org, user=user, role=role, team=team)
    # A second organization for the admin, so the switcher has something to switch to.
    other = services.organization_create(slug="demo-eu", name="Northwind Europe")
    admin = services.user_get_or_create(email=DEMO_USERS[0][0])
    services.membership_set(org=other, user=admin, role=Role.ADMIN)
    if stdout:
        stdout.write(f"Organization {org.name} (slug {org.slug}) with {len(teams)} teams.")
    return org
