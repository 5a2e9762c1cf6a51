"""Small request helpers shared by every domain's views, and the default caching rule."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest
from django.http.response import HttpResponseBase


def wants_json(request: HttpRequest) -> bool:
    """The page's script asked (it sends Accept: application/json); a plain form did not."""
    return "application/json" in request.headers.get("Accept", "")


class PrivateByDefaultMiddleware:
    """Every answer that does not say how it may be cached is `private, no-store`: no browser
    cache or proxy keeps a copy of a private page or download (a usage CSV, a comment export,
    "For you") after the person signs out or loses access. An answer that may be kept says so
    itself (member media: `private, max-age`, /healthz: never_cache); static files are served
    by WhiteNoise, before this middleware, with its own headers."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = "private, no-store"
        return response
