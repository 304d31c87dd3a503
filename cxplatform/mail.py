"""The demo mailbox: an email backend that stores messages in the database.

Used when EMAIL_URL is unset, so the embedded demo can "send" surveys and the demo user
can read them at /mailbox/ and follow their links.
"""

from __future__ import annotations

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage

from cxplatform.models import MailboxMessage


class MailboxBackend(BaseEmailBackend):
    def send_messages(self, email_messages: list[EmailMessage]) -> int:
        rows = []
        for message in email_messages:
            html = ""
            for alternative in getattr(message, "alternatives", []):
                content, mimetype = alternative[0], alternative[1]
                if mimetype == "text/html":
                    html = content
            headers = {str(k): str(v) for k, v in message.extra_headers.items()}
            rows.append(
                MailboxMessage(
                    sender=message.from_email,
                    recipients=", ".join(message.to + message.cc + message.bcc),
                    subject=message.subject,
                    text_body=message.body if message.content_subtype == "plain" else "",
                    html_body=html or (message.body if message.content_subtype == "html" else ""),
                    headers=headers,
                    message_id=headers.get("Message-ID", ""),
                )
            )
        MailboxMessage.objects.bulk_create(rows)
        return len(rows)
