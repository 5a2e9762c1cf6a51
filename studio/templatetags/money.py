"""Money as people read it, the same on every page.

- Two decimals with thousands separators: "0.42 USD", "1,234.50 USD".
- A non-zero amount that would round to 0.00 shows as "< 0.01 USD".
- A provider's charge is shown plain; an estimate always says so: "about 0.42 USD (estimate)".
- Work of the local engine costs nothing: "free (local engine)".
- A take of a provider this Cutroom does not know has no estimate: "not known (unknown provider)".

static/js/take_form.js writes its live estimate the same way; change the two together.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django import template

from studio.providers import about

register = template.Library()

CENT = Decimal("0.01")
HALF_CENT = Decimal("0.005")
FREE = "free (local engine)"
NOT_KNOWN = "not known (unknown provider)"
UNKNOWN = "—"


def _amount(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


@register.filter
def usd(value: Any) -> str:
    """A known amount, such as the provider's charge: "0.42 USD", "< 0.01 USD"."""
    amount = _amount(value)
    if amount is None:
        return UNKNOWN
    if amount and abs(amount) < HALF_CENT:
        return "< 0.01 USD"
    cents = amount.quantize(CENT, rounding=ROUND_HALF_UP) + 0  # + 0 turns -0.00 into 0.00
    return f"{cents:,.2f} USD"


@register.filter
def usd_estimate(value: Any) -> str:
    """An estimate, marked as one: "about 0.42 USD (estimate)", "< 0.01 USD (estimate)"."""
    amount = _amount(value)
    if amount is None:
        return UNKNOWN
    if not amount:
        return usd(amount)  # nothing to pay is not a guess
    shown = usd(amount)
    return f"{shown} (estimate)" if shown.startswith("<") else f"about {shown} (estimate)"


@register.filter
def usd_estimate_for(value: Any, provider: str) -> str:
    """The estimate of work that `provider` will do; the local engine's work is free."""
    return usd_estimate(value) if about(provider).bills else FREE


@register.filter
def take_cost(take: Any) -> str:
    """What a take costs: the provider's charge once reported, else its estimate."""
    engine = about(take.provider)
    if not engine.bills:
        return FREE
    if take.charged_usd is not None:
        return usd(take.charged_usd)
    # The estimate is the price of today's provider, which need not be the one that did it.
    return usd_estimate(take.estimate_usd) if engine.known else NOT_KNOWN
