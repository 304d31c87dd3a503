"""One link, many simultaneous submissions, real PostgreSQL: exactly one response."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from feedback.models import Answer, Invitation, InvitationStatus, Response
from tests.feedback.factories import InvitationFactory

pytestmark = pytest.mark.integration

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"


def hammer(token: str, bodies: list[dict], *, accept_json: bool = False) -> list[int]:
    """POST every body to the link at the same moment, each from its own thread (and so
    its own database connection). Returns the status codes."""
    barrier = threading.Barrier(len(bodies))
    statuses: list[int] = []
    lock = threading.Lock()

    def submit(body: dict) -> None:
        client = Client()
        extra = {"HTTP_ACCEPT": "application/json"} if accept_json else {}
        try:
            barrier.wait(timeout=30)
            status = client.post(f"/s/{token}/", body, HTTP_USER_AGENT=BROWSER, **extra).status_code
        finally:
            connection.close()
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=submit, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return statuses


def test_twenty_concurrent_submissions_of_one_link_make_exactly_one_response(
    require_postgres, transactional_db
):
    invitation = InvitationFactory()
    primary = invitation.survey.questions.get(is_primary=True)
    comment = invitation.survey.questions.get(type="text")
    bodies = [
        {f"q{primary.pk}": str(i % 11), f"q{comment.pk}": f"try {i}", "_action": "submit"}
        for i in range(20)
    ]

    statuses = hammer(invitation.token, bodies)

    assert len(statuses) == 20
    assert set(statuses) == {302}, statuses  # every one lands on the thank-you page, no 500
    response = Response.objects.get(invitation=invitation)
    assert Response.objects.count() == 1
    assert response.completed
    assert response.answers.count() == 2
    assert Answer.objects.filter(response=response, question=primary).count() == 1
    # The response holds one submission's answers, whole: score and comment agree.
    tried = int(response.comment.split()[1])
    assert response.primary_score == tried % 11
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.RESPONDED


def test_concurrent_partial_saves_of_different_questions_all_land_in_one_response(
    require_postgres, transactional_db
):
    invitation = InvitationFactory()
    survey = invitation.survey
    primary = survey.questions.get(is_primary=True)
    comment = survey.questions.get(type="text")
    bodies = [{f"q{primary.pk}": "6"} for _ in range(10)] + [
        {f"q{comment.pk}": "The parcel came late", "_shown": str(comment.pk)} for _ in range(10)
    ]

    statuses = hammer(invitation.token, bodies, accept_json=True)

    assert set(statuses) == {200}, statuses
    response = Response.objects.get()
    assert (response.primary_score, response.category) == (6, "detractor")
    assert response.comment == "The parcel came late"
    assert not response.completed
    assert Invitation.objects.get().status == InvitationStatus.RESPONDED
