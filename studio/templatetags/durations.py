"""Duration filters for templates (and "ago"); the formatting itself is studio.core.formatting."""

from __future__ import annotations

from django import template

from studio.core.formatting import ago, div1000, seconds, seconds_total, timecode

register = template.Library()
for _filter in (ago, seconds, div1000, seconds_total, timecode):
    register.filter(_filter.__name__, _filter)
