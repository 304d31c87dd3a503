"""Campaign staff URLs for the tenant-isolation walk: how to make org A's row for each."""

from __future__ import annotations

from tests.feedback.factories import CampaignFactory, SegmentFactory
from tests.test_tenant_isolation import register_staff_rows


def _campaign(org):
    return {"pk": CampaignFactory(organization=org).pk}


register_staff_rows(
    {
        "feedback:campaign_detail": _campaign,
        "feedback:campaign_edit": _campaign,
        "feedback:campaign_preview": _campaign,
        "feedback:campaign_preview_email": _campaign,
        "feedback:campaign_launch": _campaign,
        "feedback:campaign_pause": _campaign,
        "feedback:campaign_resume": _campaign,
        "feedback:campaign_cancel": _campaign,
        "feedback:campaign_delete": _campaign,
        "feedback:segment_edit": lambda org: {"pk": SegmentFactory(organization=org).pk},
        "feedback:segment_delete": lambda org: {"pk": SegmentFactory(organization=org).pk},
    }
)
