"""What a take will cost before the provider says: the price list, or more when the provider has
lately charged more (docs/governance.md "Budgets").

The price list (STUDIO_PRICE_720P, STUDIO_PRICE_1080P) is a reseller's, and the provider's real
charge (`billing.amount`) can be higher. Like polling learns run times (studio/takes/polling.py),
estimates learn from the takes of the same configuration: the provider and the resolution, which
is what the price depends on; seconds are divided out. A new take's estimate is the larger of
the price list's and the highest charge per output second among the last HISTORY takes of the
configuration that the provider has charged, made within the last LOOKBACK.

The highest, not the average: a budget must hold against the dearest charge seen lately. And only
recent ones, so that a price cut is believed again after HISTORY takes or LOOKBACK at most.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_CEILING, Decimal

from django.conf import settings
from django.utils import timezone

from studio.models import Take

HISTORY = 20  # the latest charged takes of a configuration that count
LOOKBACK = timedelta(days=7)  # and only those made this recently
_CENTICENT = Decimal("0.0001")
_RATE = Decimal("0.000001")  # USD per second, as precise as the price list's


def price_list(resolution: str, seconds: float) -> Decimal:
    """The price list's estimate: output seconds × the price of the resolution."""
    price = Decimal(settings.PRICE_PER_SECOND[resolution])
    return (price * Decimal(str(round(seconds, 3)))).quantize(_CENTICENT)


def charged_per_second(provider: str, resolution: str) -> Decimal | None:
    """The highest charge per output second among the recent charged takes of `provider` at
    `resolution`; None before there is any."""
    rows = (
        Take.objects.filter(
            provider=provider,
            resolution=resolution,
            charged_usd__isnull=False,
            created_at__gte=timezone.now() - LOOKBACK,
        )
        .order_by("-created_at", "-pk")
        .values_list("charged_usd", "duration", "length_ms")[:HISTORY]
    )
    rates = [
        charge / (Decimal(duration) if duration else Decimal(length_ms) / 1000)
        for charge, duration, length_ms in rows
        if charge is not None and (duration or length_ms)
    ]
    highest = max(rates, default=None)
    return None if highest is None else highest.quantize(_RATE, ROUND_CEILING)


def take_estimate(*, provider: str, resolution: str, seconds: float) -> Decimal:
    """What a take of `seconds` output at `resolution` with `provider` is reserved: the price
    list's estimate, or the recent charges' when they are higher (rounded up to the 0.0001 USD,
    so a take charged like the dearest recent one stays within its estimate)."""
    listed = price_list(resolution, seconds)
    rate = charged_per_second(provider, resolution)
    if rate is None:
        return listed
    learned = (rate * Decimal(str(round(seconds, 3)))).quantize(_CENTICENT, ROUND_CEILING)
    return max(listed, learned)


def prices_per_second(provider: str) -> dict[str, Decimal]:
    """USD per output second at each resolution, as estimates use them now (the edit form's
    live estimate)."""
    return {
        resolution: max(Decimal(listed), charged_per_second(provider, resolution) or Decimal(0))
        for resolution, listed in settings.PRICE_PER_SECOND.items()
    }
