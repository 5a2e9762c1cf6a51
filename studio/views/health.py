from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from studio.health import health


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Machine-readable health: 200 only when the database answers and a worker is alive."""
    report = health()
    return JsonResponse(report, status=200 if report["ok"] else 503)
