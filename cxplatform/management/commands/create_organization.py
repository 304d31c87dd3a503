from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email, validate_slug

from cxplatform import services


class Command(BaseCommand):
    help = "Create an organization (or keep the existing one) with an admin member."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("name")
        parser.add_argument("--admin-email", required=True)

    def handle(self, *args, slug: str, name: str, admin_email: str, **options):
        try:
            validate_slug(slug)
            validate_email(admin_email)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        org = services.organization_create(slug=slug, name=name, admin_email=admin_email)
        self.stdout.write(
            f"Organization {org.name} ({org.slug}) with admin {admin_email}. "
            "An admin without a password is emailed a link to choose one; the password-reset "
            "page or `manage.py changepassword` also set it."
        )
