from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

from accounts.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """A request that went through @login_required, so `user` is a real User."""

    user: User


def client_address(request: HttpRequest) -> str:
    """The client's IP address as STUDIO_PROXY_COUNT trusts it.

    This is the one reading of X-Forwarded-For: django-axes (sign-in lock-outs) and
    django-ratelimit (share links, password reset, sign-up) both call it. Each of our n
    proxies appends the address it got the request from, so the client is the n-th entry from
    the right; anything further left was written by the client and may be forged. With no
    proxy (0), or when the header has fewer entries than proxies, it is the peer's address.
    """
    count = settings.PROXY_COUNT
    if count:
        hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if len(hops) >= count and (address := _address(hops[-count])):
            return address
    # "0.0.0.0" when gunicorn listens on a unix socket and there is no proxy to ask.
    return _address(request.META.get("REMOTE_ADDR", "")) or "0.0.0.0"  # noqa: S104 (not a bind)


def _address(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return ""
