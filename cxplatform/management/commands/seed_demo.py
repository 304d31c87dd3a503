"""Seed the demo organization. Safe to run twice: every step gets or creates.

Each app adds its own demo data through a ``demo`` module with a ``seed(org, stdout)``
function; they run in INSTALLED_APPS order (cxplatform first, then journeys, feedback,
scorecards), so later apps can build on earlier ones.
"""

from __future__ import annotations

import importlib

from django.apps import apps
from django.core.management.base import BaseCommand
from django.utils.module_loading import module_has_submodule

from cxplatform import demo


class Command(BaseCommand):
    help = "Create or refresh the demo organization (slug 'demo') and print its logins."

    def add_arguments(self, parser):
        parser.add_argument("--quick", action="store_true", help="Less data (for tests).")

    def handle(self, *args, quick: bool, **options):
        org = demo.seed_core(stdout=self.stdout)
        for config in apps.get_app_configs():
            if config.name == "cxplatform" or config.name.split(".")[0] not in {
                "journeys",
                "feedback",
                "scorecards",
            }:
                continue
            if module_has_submodule(config.module, "demo"):
                module = importlib.import_module(f"{config.name}.demo")
                module.seed(org=org, stdout=self.stdout, quick=quick)
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("Demo organization ready. Sign in with:"))
        for email, role in demo.DEMO_USERS:
            self.stdout.write(f"  {role:<8} {email:<28} password: {demo.DEMO_PASSWORD}")
