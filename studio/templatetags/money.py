"""Money filters for templates; the formatting itself is studio.core.formatting."""

from __future__ import annotations

from typing import Any

from django import template

from studio.core.formatting import FREE, usd, usd_estimate
from studio.providers.catalogue import about

register = template.Library()
register.filter("usd", usd)
register.filter("usd_estimate", usd_estimate)


@register.filter
def usd_estimate_for(value: Any, provider: str) -> str:
    """The estimate of work that `provider` will do; the local engine's work is free."""
    return usd_estimate(value) if about(provider).bills else FREE


@register.filter
def take_cost(take: Any) -> str:
    """What a take costs: the provider's charge once reported, else its estimate."""
    if not about(take.provider).bills:
        return FREE
    if take.charged_usd is not None:
        return usd(take.charged_usd)
    return usd_estimate(take.estimate_usd)
