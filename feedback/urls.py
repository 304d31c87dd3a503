"""The feedback URLs, gathered from each sub-domain's views module."""

from __future__ import annotations

from feedback.views import (
    campaigns,
    cases,
    contacts,
    email_links,
    pipeline,
    respondent,
    responses,
    surveys,
)

app_name = "feedback"
urlpatterns = [
    *surveys.urlpatterns,
    *contacts.urlpatterns,
    *campaigns.urlpatterns,
    *responses.urlpatterns,
    *cases.urlpatterns,
    *respondent.urlpatterns,
    *email_links.urlpatterns,
    *pipeline.urlpatterns,
]
