"""Whether Cutroom can send e-mail, and what happens to a mail when it cannot.

With no SMTP server configured (STUDIO_EMAIL_HOST) and debug off, the default mailer is
NoMailBackend. Pages that would send a mail (password reset, sign-up) ask `can_send_mail()`
first and tell the person that no mail can be sent, rather than claiming one is on its way.
Anything else that sends a mail anyway gets one log line, without the recipient or the body:
a reset link printed to a server's log is a way into the account.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

logger = logging.getLogger(__name__)

NO_MAIL_BACKEND = "accounts.mail.NoMailBackend"


def can_send_mail() -> bool:
    return settings.MAILERS["default"].get("BACKEND") != NO_MAIL_BACKEND


class NoMailBackend(BaseEmailBackend):
    """Sends nothing and says so, without printing the message."""

    def send_messages(self, email_messages: Sequence[EmailMessage], **kwargs: Any) -> int:
        for message in email_messages:
            logger.warning(
                "Mail %r for [redacted] not sent: no SMTP server is configured "
                "(set STUDIO_EMAIL_HOST).",
                message.subject,
            )
        return 0
