"""The feedback domain, split by sub-domain; every model is re-exported here."""

from __future__ import annotations

from feedback.models.campaigns import (
    AudienceType,
    Campaign,
    CampaignContact,
    CampaignStatus,
    DeliveryEvent,
    Invitation,
    InvitationChannel,
    InvitationStatus,
    Segment,
)
from feedback.models.contacts import Contact, ContactImport, ContactStatus, ImportStatus
from feedback.models.pipeline import PipelineStep, StepStatus
from feedback.models.responses import Answer, Response, ResponseChannel
from feedback.models.surveys import Question, Survey, SurveyKind, SurveyStatus

__all__ = [
    "Answer",
    "AudienceType",
    "Campaign",
    "CampaignContact",
    "CampaignStatus",
    "Contact",
    "ContactImport",
    "ContactStatus",
    "DeliveryEvent",
    "ImportStatus",
    "Invitation",
    "InvitationChannel",
    "InvitationStatus",
    "PipelineStep",
    "Question",
    "Response",
    "ResponseChannel",
    "Segment",
    "StepStatus",
    "Survey",
    "SurveyKind",
    "SurveyStatus",
]
