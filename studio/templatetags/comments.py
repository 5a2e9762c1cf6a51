"""The comment panel's small helpers (templates/review/_comments.html)."""

from __future__ import annotations

import json
from typing import Any

from django import template

from studio.models import Comment, Side
from studio.review.comments import page_timecode

register = template.Library()


@register.filter
def with_code(url: str, code: str) -> str:
    """A per-comment endpoint from the panel's pattern (views.comments.CODE stands for it)."""
    return url.replace("__code__", code)


@register.filter
def as_json(value: Any) -> str:
    """JSON for a data- attribute (the template escapes it like any other attribute)."""
    return json.dumps(value, separators=(",", ":"))


@register.filter
def timecode(comment: Comment) -> str:
    return page_timecode(comment)


@register.filter
def side_label(side: str) -> str:
    return Side(side).label if side in Side.values else ""


@register.filter
def who(comment: Comment) -> str:
    """Who wrote it, as the panel names them (Comment.byline: "Kim (guest)")."""
    return comment.byline
