"""The provider's request budget, shared by every process and host: Cutroom never causes a 429.

Modellix allows a number of requests per minute per team (MODELLIX_RPM; 100 on the smallest
entitlement). Submits, status reads and media uploads all count; result downloads go to a file
host and do not. Every process spends from one token bucket, a row of `RequestBudget`, before it
sends anything: a request without a token is not sent, and the caller is told when the next
one will be there, to reschedule (a take's step waits in the queue, a status check stays due).

The bucket is sized so that no minute, wherever it starts, holds more than 90 % of MODELLIX_RPM:
it holds `capacity` tokens (a tenth of the budget, at least 3) and refills at `0.9 * RPM -
capacity` a minute. The 10 % left over absorbs the time a request takes to reach the provider
and clocks that differ a little between hosts. The provider may count in fixed or in sliding
minutes; a bucket that never allows more than its limit in any minute is safe for both.

Status checks leave STATUS_KEEP tokens in the bucket, so a take that is ready to be sent (an
upload and the paid POST) is never starved by polling; over a minute polling still gets every
token that nobody else needs. A 429 that comes anyway (another tool on the same key) still
pauses every caller until the provider's reset (ProviderGate).
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from studio.providers.base import Failure, ProviderError
from studio.providers.models import RequestBudget

STATUS_KEEP = 2  # tokens a status check leaves for a waiting send
_not_before: dict[str, float] = {}  # this process: no status token before this (monotonic)


class OverBudget(ProviderError):
    """Nothing was sent: the request budget is spent until `wait` seconds from now."""

    def __init__(self, provider: str, wait: float) -> None:
        super().__init__(
            "Cutroom is pacing its requests to stay within the provider's rate limit.",
            Failure.RETRY,
            wait=wait,
            detail=f"{provider} request budget: next request in {wait:.1f} s",
        )


def limits() -> tuple[float, float]:
    """The bucket's capacity, and the tokens it gains per second of this clock."""
    rpm = settings.MODELLIX_RPM
    capacity = float(max(3, rpm // 10))
    per_minute = max(1.0, 0.9 * rpm - capacity)
    return capacity, per_minute / (60 * settings.TIME_SCALE)


def acquire(provider: str, count: int = 1, *, keep: float = 0.0) -> float:
    """Take `count` tokens, leaving at least `keep`: 0.0 when taken, else the seconds to wait.

    More tokens than the bucket holds (a send with four reference images on a small budget) are
    given when the bucket is full, and the debt is paid back before anyone gets another.
    """
    capacity, rate = limits()
    needed = min(count + keep, capacity)
    with transaction.atomic():
        row = _locked_row(provider, capacity)
        now = timezone.now()
        gained = max(0.0, (now - row.updated_at).total_seconds()) * rate
        tokens = min(capacity, row.tokens + gained)
        if tokens < needed:
            return (needed - tokens) / rate
        RequestBudget.objects.filter(pk=row.pk).update(
            tokens=tokens - count, updated_at=max(now, row.updated_at)
        )
    return 0.0


def _locked_row(provider: str, capacity: float) -> RequestBudget:
    """The provider's row, locked until the transaction ends (made full on first use)."""
    rows = RequestBudget.objects.select_for_update()
    # A write first: on SQLite it takes the database's write lock, so no other process reads
    # the count until this transaction ends (select_for_update does that on PostgreSQL).
    if not RequestBudget.objects.filter(provider=provider).update(provider=provider):
        try:
            with transaction.atomic():
                RequestBudget.objects.create(
                    provider=provider, tokens=capacity, updated_at=timezone.now()
                )
        except IntegrityError:
            pass  # made by another process meanwhile
    return rows.get(provider=provider)


def spend(provider: str, count: int = 1, *, patience: float = 0.0) -> None:
    """Take `count` tokens, waiting up to `patience` seconds for them; else OverBudget."""
    give_up = time.monotonic() + patience
    while True:
        wait = acquire(provider, count)
        if not wait:
            return
        if time.monotonic() + wait > give_up:
            raise OverBudget(provider, wait)
        time.sleep(wait)


def prepay_status(provider: Any) -> bool:
    """Pay for one status check by `provider` now; False leaves the take due for a later turn.

    Providers without a budget (the local engine) always may. Called by the scheduler before it
    counts and asks a check, so a check it cannot pay for is neither counted nor sent.
    """
    name = getattr(provider, "budget", "")
    if not name:
        return True
    if time.monotonic() < _not_before.get(name, 0.0):
        return False
    wait = acquire(name, 1, keep=STATUS_KEEP)
    if wait:
        _not_before[name] = time.monotonic() + wait
        return False
    provider.prepaid += 1
    return True


def status_wait() -> float:
    """Seconds until this process may pay for a status check again (0.0: it may now)."""
    now = time.monotonic()
    return max([0.0, *(until - now for until in _not_before.values())])
