"""Keep secret tokens out of the logs.

Share links, invitations, sign-up and password-reset links and the signed provider-media URLs
carry their secret in the path. Anyone who reads a log line with one can use it, so every log
line that may hold a URL is passed through `redact`: gunicorn's access and error logs
(`GunicornLogger`, named in the Procfile), and Django's own request warnings such as
"Not Found: /s/<token>/" (`RedactingFilter` on the log handlers in settings.LOGGING). The rest of
the line stays, so a log still tells which kind of page was asked for and how it went.

This module imports nothing from Django: gunicorn loads it before the application.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from gunicorn.glogging import Logger

REDACTED = "[redacted]"

# A path separator as it appears in a path, or percent-encoded in a query (?next=%2Finvite%2F…).
_SEP = r"(?:/|%2[fF])"
# A token (one path segment) runs to the next separator, query, fragment, quote or space.
_SEGMENT = r"[^/?#&\s\"'%]+"
# Where a path starts: the start of the text, after a space, quote or "=" (a query value), or
# after a scheme and host. So /static/s/x.css is left alone.
_LEAD = r"(?:^|[\s\"'=]|://[^/\s\"']+)"
_SECRET_PATHS = re.compile(
    rf"(?P<prefix>{_LEAD}{_SEP}(?:s|invite|provider-media|accounts{_SEP}signup{_SEP}finish){_SEP})"
    rf"(?P<token>{_SEGMENT})"
    # Password reset: the user's id and the token; "sent" and "complete" are plain pages.
    rf"|(?P<reset>{_LEAD}{_SEP}accounts{_SEP}password{_SEP}reset{_SEP})"
    rf"(?!(?:sent|complete){_SEP})(?P<uid>{_SEGMENT})(?P<mid>{_SEP})(?P<reset_token>{_SEGMENT})"
)


def _replace(match: re.Match[str]) -> str:
    if match["prefix"]:
        return f"{match['prefix']}{REDACTED}"
    # After the first visit Django swaps the token for "set-password" (it keeps it in the
    # session); that word is no secret.
    segment = match["reset_token"]
    kept = segment if segment == "set-password" else REDACTED  # noqa: S105 (a URL word)
    return f"{match['reset']}{REDACTED}{match['mid']}{kept}"


def redact(text: str) -> str:
    """`text` with the secret part of every share, invitation, sign-up, reset and
    provider-media path replaced by [redacted]."""
    return _SECRET_PATHS.sub(_replace, text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message with `redact` (it filters nothing out)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class GunicornLogger(Logger):
    """gunicorn's logger, with tokens redacted from the access log (request line, path, query,
    referrer) and the error log ("Error handling request /s/<token>/")."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(existing, RedactingFilter) for existing in log.filters):
                log.addFilter(RedactingFilter())
