from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from studio.health import health


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Machine-readable health: 200 only when the database answers and a worker is alive.

    Anyone learns whether the studio is healthy (`ok` and the status code). What is inside
    (worker counts, heartbeat times, queue length, provider, free space) would help an attacker
    time their attempts, so only staff and callers on this machine (a load balancer's local
    check, `make run`) see it.
    """
    report = health()
    status = 200 if report["ok"] else 503
    if not _may_see_details(request):
        return JsonResponse({"ok": report["ok"]}, status=status)
    return JsonResponse(report, status=status)


def _may_see_details(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_staff:
        return True
    return _is_loopback(client_address(request))


def client_address(request: HttpRequest) -> str:
    """The caller's address, as far as STUDIO_PROXY_COUNT says the forwarded header is trusted.

    Each proxy appends the address it saw to X-Forwarded-For, so with N proxies in front the
    N-th entry from the right is the one the outermost proxy saw; anything left of it may be
    made up by the caller. Without proxies, or when no proxy added the header (a check made on
    this machine straight to gunicorn), REMOTE_ADDR is the caller.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if not settings.PROXY_COUNT or not forwarded:
        return remote
    hops = [hop.strip() for hop in forwarded.split(",")]
    return hops[-settings.PROXY_COUNT] if len(hops) >= settings.PROXY_COUNT else ""


def _is_loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback
