"""Numbers as people read them, the same on every page: money and durations.

Money:

- Two decimals with thousands separators: "0.42 USD", "1,234.50 USD".
- A non-zero amount that would round to 0.00 shows as "< 0.01 USD".
- A provider's charge is shown plain; an estimate always says so: "about 0.42 USD (estimate)".
- Work of the local engine costs nothing: "free (local engine)".

static/js/take_form.js writes its live estimate the same way; change the two together.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils import timezone
from django.utils.timesince import timesince

CENT = Decimal("0.01")
HALF_CENT = Decimal("0.005")
FREE = "free (local engine)"
UNKNOWN = "—"


def _amount(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def usd(value: Any) -> str:
    """A known amount, such as the provider's charge: "0.42 USD", "< 0.01 USD"."""
    amount = _amount(value)
    if amount is None:
        return UNKNOWN
    if amount and abs(amount) < HALF_CENT:
        return "< 0.01 USD"
    cents = amount.quantize(CENT, rounding=ROUND_HALF_UP) + 0  # + 0 turns -0.00 into 0.00
    return f"{cents:,.2f} USD"


def usd_estimate(value: Any) -> str:
    """An estimate, marked as one: "about 0.42 USD (estimate)", "< 0.01 USD (estimate)"."""
    amount = _amount(value)
    if amount is None:
        return UNKNOWN
    if not amount:
        return usd(amount)  # nothing to pay is not a guess
    shown = usd(amount)
    return f"{shown} (estimate)" if shown.startswith("<") else f"about {shown} (estimate)"


def seconds(value: float | int | None) -> str:
    """'0.53 s' under a second (never '0.0 s'), '12.5 s' under a minute, '14 min 20 s' after."""
    if value is None:
        return ""
    value = float(value)
    if value < 0.995:
        return f"{max(value, 0.01):.2f} s"
    if value < 60:
        return f"{value:.1f}".removesuffix(".0") + " s"
    minutes, rest = divmod(round(value), 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def timecode(value: float | int | None) -> str:
    """A point on a clip's timeline to the hundredth: '0:04.00', '1:12.48', '1:02:03.50'."""
    if value is None:
        return ""
    hundredths = round(max(float(value), 0.0) * 100)
    seconds_, hundredth = divmod(hundredths, 100)
    minutes, second = divmod(seconds_, 60)
    hours, minute = divmod(minutes, 60)
    if hours:
        return f"{hours}:{minute:02d}:{second:02d}.{hundredth:02d}"
    return f"{minute}:{second:02d}.{hundredth:02d}"


def div1000(value: int | None) -> float | None:
    """Milliseconds to seconds."""
    return None if value is None else value / 1000


def seconds_total(value: float | int | None) -> str:
    """A sum of seconds, which may be none at all: '0 s', else as `seconds` writes it."""
    return "0 s" if not value else seconds(value)


def ago(value: datetime | None) -> str:
    """How long ago, as people say it: "just now" under a minute (never "0 minutes ago"),
    else "5 minutes ago", "2 days, 3 hours ago"."""
    if value is None:
        return ""
    now = timezone.now()
    if now - value < timedelta(minutes=1):
        return "just now"
    return f"{timesince(value, now)} ago"
