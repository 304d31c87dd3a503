"""Demo contacts: 2 000 customers of Northwind Outfitters (200 with ``quick``), a mix of
English, German and French speakers with their time zones, some business customers with
a company, and attributes (plan, region, customer_since, loyalty_tier). A few have
unsubscribed or bounced. Deterministic (a seeded random), bulk-inserted, and safe to run
twice: existing addresses are left alone."""

from __future__ import annotations

import random
import unicodedata
from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from cxplatform.models import Organization
from feedback.models import Contact

COUNT = 2000
QUICK_COUNT = 200

FIRST = {
    "en": [
        "Olivia",
        "Amelia",
        "Isla",
        "Ava",
        "Mia",
        "Grace",
        "Sophie",
        "Emily",
        "Ruby",
        "Chloe",
        "Oliver",
        "George",
        "Harry",
        "Jack",
        "Noah",
        "Leo",
        "Arthur",
        "Oscar",
        "Charlie",
        "James",
        "Liam",
        "Ethan",
        "Mason",
        "Lucas",
        "Ella",
        "Hannah",
        "Megan",
        "Aiden",
        "Daniel",
        "Samuel",
    ],
    "de": [
        "Emma",
        "Mia",
        "Hannah",
        "Sofia",
        "Lina",
        "Marie",
        "Lea",
        "Anna",
        "Clara",
        "Leonie",
        "Ben",
        "Paul",
        "Jonas",
        "Finn",
        "Luis",
        "Felix",
        "Lukas",
        "Elias",
        "Maximilian",
        "Henry",
        "Julia",
        "Katrin",
        "Sabine",
        "Stefan",
        "Thomas",
        "Andreas",
        "Jana",
        "Tobias",
        "Miriam",
        "Uwe",
    ],
    "fr": [
        "Louise",
        "Jade",
        "Emma",
        "Alice",
        "Chloé",
        "Léa",
        "Manon",
        "Camille",
        "Inès",
        "Zoé",
        "Gabriel",
        "Raphaël",
        "Léo",
        "Louis",
        "Arthur",
        "Jules",
        "Hugo",
        "Lucas",
        "Adam",
        "Nathan",
        "Élodie",
        "Margaux",
        "Théo",
        "Mathis",
        "Juliette",
        "Sacha",
        "Clément",
        "Aurélie",
        "Hélène",
        "Rémi",
    ],
}
LAST = {
    "en": [
        "Smith",
        "Jones",
        "Taylor",
        "Brown",
        "Williams",
        "Wilson",
        "Johnson",
        "Davies",
        "Patel",
        "Robinson",
        "Wright",
        "Thompson",
        "Evans",
        "Walker",
        "White",
        "Roberts",
        "Green",
        "Hall",
        "Wood",
        "Jackson",
        "Clarke",
        "Hughes",
        "Edwards",
        "Murphy",
        "O'Brien",
        "Kelly",
        "Lewis",
        "Harris",
        "Turner",
        "Moore",
    ],
    "de": [
        "Müller",
        "Schmidt",
        "Schneider",
        "Fischer",
        "Weber",
        "Meyer",
        "Wagner",
        "Becker",
        "Schulz",
        "Hoffmann",
        "Koch",
        "Bauer",
        "Richter",
        "Klein",
        "Wolf",
        "Schröder",
        "Neumann",
        "Schwarz",
        "Zimmermann",
        "Braun",
        "Krüger",
        "Hofmann",
        "Hartmann",
        "Lange",
        "Werner",
        "Krause",
        "Lehmann",
        "Köhler",
        "Maier",
        "Huber",
    ],
    "fr": [
        "Martin",
        "Bernard",
        "Dubois",
        "Thomas",
        "Robert",
        "Richard",
        "Petit",
        "Durand",
        "Leroy",
        "Moreau",
        "Simon",
        "Laurent",
        "Lefèvre",
        "Michel",
        "Garcia",
        "David",
        "Bertrand",
        "Roux",
        "Vincent",
        "Fournier",
        "Morel",
        "Girard",
        "André",
        "Mercier",
        "Dupont",
        "Lambert",
        "Bonnet",
        "François",
        "Martinez",
        "Faure",
    ],
}
COMPANIES = {
    "en": [
        "Summit Trail Tours",
        "Brightwater Outdoor Ltd",
        "Peak & Pine Adventures",
        "Highland Scouts Association",
        "Coastal Rescue Volunteers",
        "Redfern Engineering",
        "Marlow Film Productions",
        "Northgate Schools Trust",
    ],
    "de": [
        "Alpenblick Bergschule GmbH",
        "Wanderfreunde Schwarzwald e.V.",
        "Hüttenwerk Reisen GmbH",
        "Bergwacht Oberland",
        "Stadtwerke Ulm",
        "Kletterhalle Nordwand",
    ],
    "fr": [
        "Cimes & Vallées SARL",
        "Les Randonneurs du Jura",
        "Aventure Pyrénées",
        "Club Alpin Annecy",
        "Atelier Montblanc",
    ],
}
REGIONS = {
    "en": [("UK", "Europe/London", 6), ("US", "America/New_York", 3), ("IE", "Europe/Dublin", 1)],
    "de": [("DE", "Europe/Berlin", 7), ("AT", "Europe/Vienna", 2), ("CH", "Europe/Zurich", 1)],
    "fr": [("FR", "Europe/Paris", 7), ("BE", "Europe/Brussels", 2), ("CH", "Europe/Zurich", 1)],
}
DOMAINS = ["example.com", "example.org", "example.net", "mail.example", "post.example"]
PLANS = [("basic", 55), ("plus", 30), ("premium", 15)]
TIERS = [("none", 50), ("silver", 30), ("gold", 15), ("platinum", 5)]


def _pick(rng: random.Random, weighted: list[tuple[Any, ...]]) -> tuple[Any, ...]:
    return rng.choices(weighted, weights=[w[-1] for w in weighted])[0]


def _ascii(text: str) -> str:
    """A name as part of an email address: umlauts spelled out, other accents dropped
    (François → francois), so every demo address is one the app itself accepts."""
    table = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
    text = unicodedata.normalize("NFKD", text.lower().translate(table))
    return "".join(c for c in text if c.isascii() and c.isalnum())


def build(org: Organization, count: int, seed: int = 20240501) -> list[Contact]:
    """``count`` deterministic demo contacts (not saved)."""
    rng = random.Random(seed)
    now = timezone.now()
    contacts = []
    for n in range(count):
        locale = rng.choices(["en", "de", "fr"], weights=[55, 30, 15])[0]
        first, last = rng.choice(FIRST[locale]), rng.choice(LAST[locale])
        region, time_zone, _ = _pick(rng, REGIONS[locale])
        since = date(2016, 1, 1) + timedelta(days=rng.randrange(0, 9 * 365))
        attributes: dict[str, Any] = {
            "plan": _pick(rng, PLANS)[0],
            "region": region,
            "customer_since": since.isoformat(),
            "loyalty_tier": _pick(rng, TIERS)[0],
        }
        company = rng.choice(COMPANIES[locale]) if rng.random() < 0.18 else ""
        if company:
            attributes["segment"] = "business"
        domain = rng.choice(DOMAINS)
        created = now - timedelta(days=rng.randrange(200, 720), minutes=rng.randrange(1440))
        contact = Contact(
            organization=org,
            email=f"{_ascii(first)}.{_ascii(last)}{n + 1}@{domain}",
            name=f"{first} {last}",
            company=company,
            external_id=f"NW-{100000 + n}",
            locale=locale,
            time_zone=time_zone,
            attributes=attributes,
            created_at=created,
            updated_at=created,
        )
        roll = rng.random()
        if roll < 0.02:
            contact.unsubscribed_at = now - timedelta(days=rng.randrange(1, 150))
            contact.suppression_reason = "Unsubscribed from a survey email"
        elif roll < 0.03:
            contact.bounced_at = now - timedelta(days=rng.randrange(1, 150))
            contact.suppression_reason = "550 5.1.1 mailbox unavailable"
        contacts.append(contact)
    return contacts


def seed(*, org: Organization, stdout: Any = None, quick: bool = False) -> None:
    target = QUICK_COUNT if quick else COUNT
    existing = Contact.objects.for_org(org).count()
    if existing >= target:
        if stdout:
            stdout.write(f"Contacts: {existing} already there.")
        return
    Contact.objects.bulk_create(build(org, target), batch_size=500, ignore_conflicts=True)
    if stdout:
        stdout.write(f"Contacts: {Contact.objects.for_org(org).count()} customers.")
