"""Page-wide notices from the studio."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from studio.models import AT_PROVIDER, ProviderGate, Take, TakeState

# The takes that a provider pause holds up: admission, submission and polling all wait for it.
HELD_BY_PAUSE = (TakeState.QUEUED, *AT_PROVIDER)


def provider_notice(request: HttpRequest) -> dict[str, Any]:
    """Say when submissions to the edit provider are on hold, and why, to whom it concerns.

    The pause is provider-wide, so the take that triggered it is no better a guide than any
    other: every team with takes waiting on the provider sees it, and nobody else (that a pause
    is on says something about other teams' use). Staff see it on every page, as operators.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    gate = ProviderGate.objects.filter(
        provider=settings.STUDIO_PROVIDER, not_before__gt=timezone.now()
    ).first()
    if gate is None:
        return {}
    if not user.is_staff:
        waiting = Take.objects.filter(
            project__team__memberships__user=user, state__in=HELD_BY_PAUSE
        )
        if not waiting.exists():
            return {}
    scope = "all" if user.is_staff else "team"
    return {"provider_notice": {"until": gate.not_before, "reason": gate.reason, "scope": scope}}
