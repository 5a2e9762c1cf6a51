"""Check that the default storage holds every file a database row names (local or bucket)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from studio.storage.services import storage_check


class Command(BaseCommand):
    help = (
        "Check that every file a database row names is in the storage (STUDIO_STORAGE), of the "
        "size the row records. Prints each missing or mismatched one as model, code, field, "
        "name; ends with status 1 when there is any."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--checksums",
            action="store_true",
            help="Also read every file whose row records a SHA-256, and compare (slow).",
        )
        parser.add_argument(
            "--orphans",
            action="store_true",
            help="Also list stored files that no row names (they do not change the status).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = storage_check(checksums=options["checksums"], orphans=options["orphans"])
        for problem in report.problems:
            detail = f" ({problem.detail})" if problem.detail else ""
            self.stdout.write(f"{problem.kind:<9} {problem.row}{detail}")
        for name in report.orphans:
            self.stdout.write(f"orphan    {name}")
        self.stdout.write(
            f"Checked {report.files} file(s) named by {report.rows} row field(s): "
            f"{len(report.problems)} problem(s)"
            + (f", {len(report.orphans)} orphan(s)." if options["orphans"] else ".")
        )
        if report.problems:
            raise CommandError(f"{len(report.problems)} file row(s) are not right.", returncode=1)
