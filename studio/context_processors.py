"""Page-wide notices from the studio."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from studio.models import ProviderGate


def provider_notice(request: HttpRequest) -> dict[str, Any]:
    """Say on every page when submissions to the edit provider are on hold, and why."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    gate = ProviderGate.objects.filter(
        provider=settings.STUDIO_PROVIDER, not_before__gt=timezone.now()
    ).first()
    if gate is None:
        return {}
    return {"provider_notice": {"until": gate.not_before, "reason": gate.reason}}
