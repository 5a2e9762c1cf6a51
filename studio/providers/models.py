"""What Cutroom keeps about each provider: its pause (ProviderGate) and its request budget."""

from __future__ import annotations

from django.db import models


class ProviderGate(models.Model):
    """One row per provider: calls wait until `not_before` after a rate limit (provider-wide)."""

    provider = models.CharField(max_length=16, unique=True)
    not_before = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return self.provider


class RequestBudget(models.Model):
    """The requests a provider still allows, as a token bucket that every process and host
    shares (studio.providers.request_budget): `tokens` as they were at `updated_at`."""

    provider = models.CharField(max_length=16, unique=True)
    tokens = models.FloatField()
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.provider}: {self.tokens:.1f}"
