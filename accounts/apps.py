from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.core.management import call_command
from django.db.models.signals import post_migrate


def create_cache_tables(using: str = "default", **kwargs: Any) -> None:
    """Create the rate limits' cache table (accounts/limits.py) as part of `migrate`.

    A cache table is not a model, so no migration makes it; Django's createcachetable does,
    and leaves an existing table alone. Hooked to migrate, no deployment can forget it.
    """
    call_command("createcachetable", database=using, verbosity=0)


def ensure_administrator(using: str = "default", **kwargs: Any) -> None:
    """After `migrate`, the earliest account administers this Cutroom if no active one does
    (say the only administrator was deactivated): someone can always reach the
    administration page."""
    from django.db import connections

    from accounts.models import User
    from accounts.services import administrator_ensure

    # Also emitted after migrating accounts back to zero, when there is no table to look in.
    if User._meta.db_table in connections[using].introspection.table_names():
        administrator_ensure()


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and teams"

    def ready(self) -> None:
        post_migrate.connect(create_cache_tables, sender=self, dispatch_uid="cache-tables")
        post_migrate.connect(ensure_administrator, sender=self, dispatch_uid="administrator")
