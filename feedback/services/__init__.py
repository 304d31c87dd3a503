"""Business operations of the feedback domain, one module per sub-domain:
contacts, surveys, invitations, respondent, responses, pipeline (running the
after-response steps), sentiment, campaigns, and delivery: outbox (claim and send),
transport (SMTP, rate limit), tracking (opens, bounces, complaints).

Import the module you need: ``from feedback.services import responses``.
"""
