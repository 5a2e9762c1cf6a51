from __future__ import annotations

import ipaddress

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.http import client_address
from studio.ops.health import health


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


def _is_loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback
