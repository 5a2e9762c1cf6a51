"""Rate limits: django-ratelimit's fixed windows, counted in a cache every process shares.

django-ratelimit keys each counter by its window (the window's end is part of the key), so a
window really ends: a new one starts from zero whatever happened in the last, and requests
refused in a window only add to a counter that is about to be abandoned.

It needs a cache with an atomic `add` and `incr` that every web process sees. Neither of
Django's shared caches that need no extra server has that: FileBasedCache and DatabaseCache
both inherit `BaseCache.incr`, a read followed by a write, which loses increments when two
processes count at once and re-sets the entry to the cache's default timeout (with the file
cache that turned "60 a minute" into a 5-minute lock renewed by every refused request).
AtomicDatabaseCache below is Django's DatabaseCache with an atomic `incr` that keeps the
entry's expiry. It lives in the application's database, so every gunicorn worker and every
web host behind a load balancer counts in the same place, with no Redis or memcached to run.
"""

from __future__ import annotations

import base64
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.cache.backends.db import DatabaseCache
from django.db import connections, router, transaction
from django.http import HttpRequest
from django_ratelimit.core import get_usage

Key = str | Callable[[str, HttpRequest], str]

_MISSING = object()


class AtomicDatabaseCache(DatabaseCache):
    """Django's database cache whose `incr` is atomic and leaves the expiry alone."""

    _table: str  # set by DatabaseCache.__init__; the stubs do not declare it

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> Any:
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        quote = connection.ops.quote_name
        table, cache_key = quote(self._table), quote("cache_key")
        stored_key = self.make_and_validate_key(key, version=version)
        with transaction.atomic(using=db):
            with connection.cursor() as cursor:
                # A write first: it takes the row's lock (PostgreSQL) or the database's write
                # lock (SQLite), so no other incr reads the value until this one commits.
                cursor.execute(
                    f"UPDATE {table} SET {cache_key} = {cache_key} WHERE {cache_key} = %s",  # noqa: S608 (quoted names)
                    [stored_key],
                )
            # get() also deletes the row when it has expired; that delete is kept.
            value = self.get(key, _MISSING, version=version)
            if value is not _MISSING:
                value += delta
                pickled = pickle.dumps(value, self.pickle_protocol)
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"UPDATE {table} SET {quote('value')} = %s WHERE {cache_key} = %s",  # noqa: S608 (quoted names)
                        [base64.b64encode(pickled).decode("latin1"), stored_key],
                    )
        if value is _MISSING:
            raise ValueError(f"Key '{key}' not found")
        return value


@dataclass(frozen=True)
class Usage:
    limited: bool
    retry_after: int  # seconds until the window ends and counting starts again

    @property
    def minutes(self) -> int:
        """The wait in whole minutes, rounded up, for messages to people."""
        return max(1, -(-self.retry_after // 60))


def _usage(
    request: HttpRequest, group: str, rate: tuple[int, int], key: Key, *, count: bool
) -> Usage:
    usage = get_usage(request, group=group, key=key, rate=rate, increment=count)
    if usage is None:  # RATELIMIT_ENABLE is off
        return Usage(limited=False, retry_after=0)
    # Counted, this request is over when the count passes the limit (or the count could not
    # be kept: the library then fails closed); not counted, when earlier requests reached it.
    over = usage["should_limit"] if count else usage["count"] >= usage["limit"]
    # The window's last second is still the window: it ends one second after time_left.
    return Usage(limited=over, retry_after=max(usage["time_left"], 0) + 1)


def hit(request: HttpRequest, *, group: str, rate: tuple[int, int], key: Key = "ip") -> Usage:
    """Count this request against `rate` (count, seconds) and say whether it is over.

    `key` "ip" means the client's address (accounts.http.client_address); a callable
    `(group, request) -> str` counts something else, such as one share link.
    """
    return _usage(request, group, rate, key, count=True)


def peek(request: HttpRequest, *, group: str, rate: tuple[int, int], key: Key = "ip") -> Usage:
    """Whether earlier requests have used up `rate`, without counting this one."""
    return _usage(request, group, rate, key, count=False)
