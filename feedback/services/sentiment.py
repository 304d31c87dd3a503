"""The pipeline's sentiment step: store the sentiment of a response's comment."""

from __future__ import annotations

from feedback import sentiment
from feedback.models import Response


def response_sentiment_update(response: Response) -> None:
    """Compute and store the comment's sentiment. Idempotent: the same comment gives the
    same figures, and an unchanged row is not written."""
    compound, label = sentiment.analyse_response(response)
    if (response.sentiment, response.sentiment_label) != (compound, label):
        Response.objects.filter(pk=response.pk).update(sentiment=compound, sentiment_label=label)
        response.sentiment, response.sentiment_label = compound, label
