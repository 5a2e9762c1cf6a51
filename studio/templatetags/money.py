"""Money filters for templates; the formatting itself is studio.core.formatting."""

from __future__ import annotations

from typing import Any

from django import template

from studio.core.formatting import FREE, usd, usd_estimate
from studio.providers.catalogue import about

register = template.Library()
# A take of a provider this Cutroom does not know has no estimate.
NOT_KNOWN = "not known (unknown provider)"
register.filter("usd", usd)
register.filter("usd_estimate", usd_estimate)


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
