"""The mailer when no SMTP server is configured and debug is off: it sends nothing, and says so."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

log = logging.getLogger(__name__)


class UnsentMailBackend(BaseEmailBackend):
    """Log that a message was not sent, never its body: a password-reset mail holds a link that
    signs its reader in, and the process log is read by more people than the mailbox."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        for message in email_messages:
            log.warning(
                "An e-mail (%r, to %d recipient(s)) was not sent: no SMTP server is configured "
                "(set STUDIO_EMAIL_HOST).",
                message.subject,
                len(message.recipients()),
            )
        return 0
