"""What `make run` does before starting the processes: the database, the static files and a
summary of where things are, in a few lines (one Python start instead of three)."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder


class Command(BaseCommand):
    help = "Apply migrations and collect static files quietly, then say where Cutroom's data is."

    def handle(self, *args: Any, **options: Any) -> None:
        before = len(MigrationRecorder(connection).applied_migrations())
        call_command("migrate", interactive=False, verbosity=0)
        applied = len(MigrationRecorder(connection).applied_migrations()) - before
        self.stdout.write(f"  {database_ready(applied)}")
        call_command("collectstatic", interactive=False, verbosity=0)
        call_command("studio_info", stdout=self.stdout)


def database_ready(applied: int) -> str:
    """One line for what migrate did, instead of a line per migration."""
    if applied == 0:
        return "Database ready (up to date)"
    return f"Database ready ({applied} migration{'s' if applied != 1 else ''} applied)"
