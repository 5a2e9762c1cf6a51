"""Lengths of clips and takes as people read them."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
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


@register.filter
def div1000(value: int | None) -> float | None:
    """Milliseconds to seconds."""
    return None if value is None else value / 1000


@register.filter
def seconds_total(value: float | int | None) -> str:
    """A sum of seconds, which may be none at all: '0 s', else as `seconds` writes it."""
    return "0 s" if not value else seconds(value)
