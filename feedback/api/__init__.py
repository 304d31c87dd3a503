"""REST API of the feedback domain. Importing this package registers every viewset."""

from __future__ import annotations

from feedback.api import campaigns, contacts, invitations, pipeline, responses, surveys

__all__ = ["campaigns", "contacts", "invitations", "pipeline", "responses", "surveys"]
