"""Employees (and, in later milestones, metric rollups, incentive programs, the points
ledger, leaderboards and recognition)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cxplatform.models import Organization, OrgQuerySet, Team


class Employee(models.Model):
    """A person whose work customers experience; responses can be attributed to them."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    external_id = models.CharField(max_length=100, blank=True)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="employees"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = OrgQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "external_id"],
                condition=~Q(external_id=""),
                name="employee_external_id_unique_per_org",
            )
        ]

    def __str__(self) -> str:
        return self.name
