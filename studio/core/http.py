"""Small request helpers shared by every domain's views."""

from __future__ import annotations

from django.http import HttpRequest


def wants_json(request: HttpRequest) -> bool:
    """The page's script asked (it sends Accept: application/json); a plain form did not."""
    return "application/json" in request.headers.get("Accept", "")
