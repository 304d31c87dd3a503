from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from cxplatform import services
from cxplatform.models import Organization, Role


class Command(BaseCommand):
    help = "Create an API key for an organization. The key is printed once, alone on the last line."

    def add_arguments(self, parser):
        parser.add_argument("org_slug")
        parser.add_argument("name")
        parser.add_argument("--read-only", action="store_true", help="A key that can only read.")

    def handle(self, *args, org_slug: str, name: str, read_only: bool, **options):
        org = Organization.objects.filter(slug=org_slug).first()
        if org is None:
            raise CommandError(f"No organization with slug {org_slug!r}.")
        role = Role.VIEWER if read_only else Role.MANAGER
        _, raw = services.api_key_create(org=org, name=name, role=role)
        self.stdout.write(f"API key {name!r} for {org.name}; it is shown only now:")
        self.stdout.write(raw)
