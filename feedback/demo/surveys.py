"""Demo surveys: one of each kind (NPS, CSAT, CES, eNPS) and a custom one, worded from the
templates, active, with German texts for the NPS and eNPS surveys, and attached to the demo
journeys' touchpoints when those exist (looked up loosely by name; none is fine).

Safe to run twice: a survey whose name exists is left as it is.
"""

from __future__ import annotations

from typing import Any

from cxplatform.services import SYSTEM
from feedback.models import Survey, SurveyStatus
from feedback.services import surveys as services
from journeys.models import Touchpoint

# name, template kind, words of the touchpoint's name (first match wins), extra changes
DEMO_SURVEYS: list[tuple[str, str, tuple[str, ...], dict[str, Any]]] = [
    ("Relationship NPS", "nps", (), {"title": "How are we doing, overall?"}),
    (
        "Support CSAT",
        "csat",
        ("phone hotline", "live chat", "hotline", "support", "chat"),
        {"title": "How did our support team do?"},
    ),
    (
        "Returns effort (CES)",
        "ces",
        ("returns", "exchange", "help centre"),
        {"title": "Was your return easy?"},
    ),
    ("Employee pulse (eNPS)", "enps", (), {}),
    (
        "Delivery experience",
        "custom",
        ("parcel delivery", "delivery", "shipping"),
        {"title": "How was your delivery?"},
    ),
]


def _touchpoint(org: Any, words: tuple[str, ...]) -> Touchpoint | None:
    touchpoints = Touchpoint.objects.for_org(org).filter(archived_at__isnull=True)
    for word in words:
        found = touchpoints.filter(name__icontains=word).order_by("id").first()
        if found is not None:
            return found
    return None


def seed(*, org: Any, stdout: Any = None, quick: bool = False) -> None:
    created = 0
    for name, kind, words, extra in DEMO_SURVEYS:
        if Survey.objects.for_org(org).filter(name=name).exists():
            continue
        survey = services.survey_create_from_template(
            org=org,
            actor=SYSTEM,
            kind=kind,
            name=name,
            touchpoint=_touchpoint(org, words),
            status=SurveyStatus.ACTIVE,
        )
        if extra:
            services.survey_update(survey=survey, data=extra, actor=SYSTEM)
        created += 1
    if stdout:
        stdout.write(f"Surveys: {created} created ({len(DEMO_SURVEYS)} demo surveys in all).")
