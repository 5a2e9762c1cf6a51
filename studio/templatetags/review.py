"""Review on pages that only include its templates (the take page, the gallery)."""

from __future__ import annotations

from django import template

from studio.models import ReviewStatus, Take
from studio.review.versions import version_number

register = template.Library()


@register.simple_tag
def review_choices() -> list[tuple[str, str]]:
    return list(ReviewStatus.choices)


@register.simple_tag
def take_version(take: Take) -> int:
    """The take's version number in its clip's stack (0 when its clip is gone)."""
    return version_number(take)
