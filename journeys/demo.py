"""Demo data of journeys: three journeys of Northwind Outfitters (an online purchase, a
support request, a subscription renewal) with 24 touchpoints between them, owned by the
demo teams. Safe to run twice: a journey whose name exists is left as it is."""

from __future__ import annotations

from typing import Any

from cxplatform.models import Organization, Team
from cxplatform.services import SYSTEM
from journeys import services
from journeys.models import Channel, Component, Journey, Phase

S, T, D = Component.SERVICE, Component.TECHNOLOGY, Component.DESIGN

# name, persona, description, stages: (name, phase, description, touchpoints)
# touchpoint: (name, channel, component, owner team, moment of truth, description)
JOURNEYS: list[dict[str, Any]] = [
    {
        "name": "Online shop purchase",
        "persona": "First-time online buyer",
        "description": "From spotting a jacket in an ad to wearing it, and everything after.",
        "stages": [
            (
                "Discover",
                Phase.ATTRACTION,
                "The customer needs new outdoor gear and comes across us.",
                [
                    (
                        "Social media ad",
                        Channel.SOCIAL,
                        D,
                        "E-commerce",
                        False,
                        "Seasonal campaign on Instagram and Facebook.",
                    ),
                    (
                        "Search result and landing page",
                        Channel.WEB,
                        T,
                        "E-commerce",
                        False,
                        "Organic and paid search lead to a category landing page.",
                    ),
                ],
            ),
            (
                "First visit",
                Phase.ENTRY,
                "The first look around the shop, maybe an account.",
                [
                    (
                        "Homepage visit",
                        Channel.WEB,
                        D,
                        "E-commerce",
                        False,
                        "First impression of the brand: speed, look, trust signals.",
                    ),
                    (
                        "Account sign-up",
                        Channel.WEB,
                        T,
                        "E-commerce",
                        False,
                        "Optional account with email confirmation.",
                    ),
                ],
            ),
            (
                "Choose and buy",
                Phase.ENGAGEMENT,
                "Comparing, choosing a size, paying.",
                [
                    (
                        "Product page and size guide",
                        Channel.WEB,
                        T,
                        "E-commerce",
                        False,
                        "Photos, reviews, the size guide and stock per size.",
                    ),
                    (
                        "Checkout and payment",
                        Channel.WEB,
                        T,
                        "E-commerce",
                        True,
                        "Address, delivery option and payment in three steps.",
                    ),
                    (
                        "Order confirmation email",
                        Channel.EMAIL,
                        D,
                        "E-commerce",
                        False,
                        "Sent right after payment, with the order summary.",
                    ),
                ],
            ),
            (
                "Delivery",
                Phase.EXIT,
                "The order arrives and is paid for.",
                [
                    (
                        "Shipping notification",
                        Channel.SMS,
                        T,
                        "Logistics",
                        False,
                        "Text message with the tracking link and delivery window.",
                    ),
                    (
                        "Parcel delivery",
                        Channel.IN_PERSON,
                        S,
                        "Logistics",
                        True,
                        "The courier hands over the parcel, or leaves it at a pick-up point.",
                    ),
                    (
                        "Invoice",
                        Channel.EMAIL,
                        D,
                        "Billing",
                        False,
                        "PDF invoice sent with the delivery confirmation.",
                    ),
                ],
            ),
            (
                "After the purchase",
                Phase.EXTENSION,
                "Returns, exchanges and the next purchase.",
                [
                    (
                        "Returns and exchanges",
                        Channel.WEB,
                        S,
                        "Customer Care",
                        True,
                        "Free returns within 30 days through the returns portal.",
                    ),
                    (
                        "Review request",
                        Channel.EMAIL,
                        D,
                        "E-commerce",
                        False,
                        "Two weeks after delivery: how do you like it?",
                    ),
                ],
            ),
        ],
    },
    {
        "name": "Support request",
        "persona": "Customer with a problem",
        "description": "A zip breaks or an order goes missing: how we help, from the "
        "first search for help to the problem solved.",
        "stages": [
            (
                "Something goes wrong",
                Phase.ATTRACTION,
                "The customer notices a problem and looks for help.",
                [
                    (
                        "Troubleshooting tips in the app",
                        Channel.APP,
                        T,
                        "E-commerce",
                        False,
                        "Care guides and order status, before anyone calls.",
                    ),
                ],
            ),
            (
                "Getting in touch",
                Phase.ENTRY,
                "The first contact with support.",
                [
                    (
                        "Help centre search",
                        Channel.WEB,
                        T,
                        "Customer Care",
                        False,
                        "Articles and the contact form.",
                    ),
                    (
                        "Phone hotline",
                        Channel.PHONE,
                        S,
                        "Customer Care",
                        True,
                        "Weekdays 8–20, Saturdays 9–14.",
                    ),
                    (
                        "Live chat",
                        Channel.CHAT,
                        S,
                        "Customer Care",
                        False,
                        "Chat on the website and in the app.",
                    ),
                ],
            ),
            (
                "Solving it",
                Phase.ENGAGEMENT,
                "Diagnosis, repair or replacement.",
                [
                    (
                        "Ticket updates by email",
                        Channel.EMAIL,
                        S,
                        "Customer Care",
                        False,
                        "Every change of the ticket's status is emailed.",
                    ),
                    (
                        "Repair desk in store",
                        Channel.STORE,
                        S,
                        "Retail Stores",
                        False,
                        "Walk-in repairs at the flagship stores.",
                    ),
                ],
            ),
            (
                "Resolved",
                Phase.EXIT,
                "The customer leaves with the problem solved.",
                [
                    (
                        "Resolution confirmation",
                        Channel.EMAIL,
                        S,
                        "Customer Care",
                        True,
                        "What was done, and how to reopen the case.",
                    ),
                ],
            ),
        ],
    },
    {
        "name": "Subscription renewal",
        "persona": "Outfitters Club member",
        "description": "The yearly renewal of the Outfitters Club membership.",
        "stages": [
            (
                "Renewal reminder",
                Phase.ATTRACTION,
                "A month before the membership ends.",
                [
                    (
                        "Renewal reminder email",
                        Channel.EMAIL,
                        D,
                        "Billing",
                        False,
                        "What the year brought, and what renewing keeps.",
                    ),
                ],
            ),
            (
                "Renew",
                Phase.ENGAGEMENT,
                "Checking the plan and paying.",
                [
                    (
                        "Membership page in the app",
                        Channel.APP,
                        T,
                        "E-commerce",
                        False,
                        "Plan, perks used this year, renewal date.",
                    ),
                    (
                        "Automatic renewal charge",
                        Channel.WEB,
                        T,
                        "Billing",
                        True,
                        "The card on file is charged on the renewal date.",
                    ),
                ],
            ),
            (
                "Confirmation",
                Phase.EXIT,
                "The membership continues.",
                [
                    (
                        "Renewal receipt",
                        Channel.EMAIL,
                        D,
                        "Billing",
                        False,
                        "Receipt and the new membership card.",
                    ),
                ],
            ),
            (
                "Member life",
                Phase.EXTENSION,
                "The perks that make members stay.",
                [
                    (
                        "Member perks in store",
                        Channel.STORE,
                        S,
                        "Retail Stores",
                        True,
                        "Free alterations and early access to sales.",
                    ),
                ],
            ),
        ],
    },
]


def seed(*, org: Organization, stdout: Any = None, quick: bool = False) -> None:
    teams = {team.name: team for team in Team.objects.for_org(org)}
    existing = {
        name.lower() for name in Journey.objects.for_org(org).values_list("name", flat=True)
    }
    created = touchpoints = 0
    for spec in JOURNEYS:
        if spec["name"].lower() in existing:
            continue
        journey = services.journey_create(
            org=org,
            name=spec["name"],
            persona=spec["persona"],
            description=spec["description"],
            actor=SYSTEM,
        )
        for stage_name, phase, stage_description, points in spec["stages"]:
            stage = services.stage_create(
                journey=journey,
                name=stage_name,
                phase=phase,
                description=stage_description,
                actor=SYSTEM,
            )
            for name, channel, component, team, moment, description in points:
                services.touchpoint_create(
                    stage=stage,
                    name=name,
                    channel=channel,
                    component=component,
                    owner_team=teams.get(team),
                    moment_of_truth=moment,
                    description=description,
                    actor=SYSTEM,
                )
                touchpoints += 1
        created += 1
    if stdout:
        stdout.write(f"Journeys: {created} created with {touchpoints} touchpoints.")
