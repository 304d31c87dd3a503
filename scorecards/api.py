"""REST API of scorecards: viewsets registered on cxplatform.api.router."""

from __future__ import annotations
