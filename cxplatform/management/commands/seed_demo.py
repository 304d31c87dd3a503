"""Seed the demo organization. Safe to run twice: every step gets or creates.

Each installed app adds its own demo data through its ``demo.seed`` contribution
(``cxplatform.extensions``); they run in INSTALLED_APPS order (journeys, then feedback,
then scorecards), so later apps can build on earlier ones.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from cxplatform import demo, extensions


class Command(BaseCommand):
    help = "Create or refresh the demo organization (slug 'demo') and print its logins."

    def add_arguments(self, parser):
        parser.add_argument("--quick", action="store_true", help="Less data (for tests).")

    def handle(self, *args, quick: bool, **options):
        org = demo.seed_core(stdout=self.stdout)
        for seed in extensions.contributions("demo.seed"):
            seed(org=org, stdout=self.stdout, quick=quick)
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("Demo organization ready. Sign in with:"))
        for email, role in demo.DEMO_USERS:
            self.stdout.write(f"  {role:<8} {email:<28} password: {demo.DEMO_PASSWORD}")
