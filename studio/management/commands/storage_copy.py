"""Copy an instance's files from its local media folder into the bucket (STUDIO_STORAGE=s3).

docs/scaling.md "Moving an instance to object storage" has the whole recipe; studio.storage.services
says what makes a run safe to stop and repeat.
"""

from __future__ import annotations

import time
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import filesizeformat

from studio.storage.services import (
    MB,
    MIN_PART_SIZE,
    PART_SIZE,
    CannotCopy,
    CopyReport,
    storage_copy,
)

PROGRESS_EVERY = 10.0  # seconds between progress lines at the default verbosity


def human(size: int) -> str:
    return str(filesizeformat(size)).replace("\xa0", " ")


class Command(BaseCommand):
    help = (
        "Copy every file that a database row names from the local media folder into the bucket "
        "of STUDIO_STORAGE=s3, under the same names. Objects already there with the same size "
        "and checksum are skipped, so an interrupted run can simply be started again."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--from",
            dest="source",
            type=Path,
            default=None,
            metavar="DIR",
            help="The media folder to copy from (default: STUDIO_MEDIA_DIR).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Say what would be copied; write nothing."
        )
        parser.add_argument(
            "--allow-missing",
            action="store_true",
            help="End successfully even if rows name files the folder does not have.",
        )
        parser.add_argument(
            "--part-size",
            type=int,
            default=PART_SIZE // MB,
            metavar="MB",
            help=f"Upload larger files in parts of this size (default {PART_SIZE // MB}, "
            f"at least {MIN_PART_SIZE // MB}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        source = Path(options["source"] or settings.MEDIA_ROOT)
        if options["part_size"] * MB < MIN_PART_SIZE:
            raise CommandError(f"--part-size must be at least {MIN_PART_SIZE // MB} (MB).")
        self.verbosity = int(options["verbosity"])
        self.dry_run = bool(options["dry_run"])
        self.last_line = time.monotonic()
        try:
            report = storage_copy(
                source=source,
                part_size=options["part_size"] * MB,
                dry_run=self.dry_run,
                progress=self.progress,
            )
        except CannotCopy as error:
            raise CommandError(str(error)) from error
        self.summary(report, source)
        missing = bool(report.missing) and not options["allow_missing"]
        if report.failed or missing:
            problems = [f"{len(report.failed)} failed"] if report.failed else []
            problems += [f"{len(report.missing)} missing"] if report.missing else []
            raise CommandError(f"Not everything was copied: {', '.join(problems)}.", returncode=1)

    def progress(self, report: CopyReport, outcome: str, name: str) -> None:
        if self.verbosity >= 2:
            shown = "would upload" if self.dry_run and outcome == "uploaded" else outcome
            self.stdout.write(f"{shown:<12} {name}")
        now = time.monotonic()
        if self.verbosity == 1 and now - self.last_line >= PROGRESS_EVERY:
            self.last_line = now
            self.stdout.write(
                f"{report.done}/{report.files} files, "
                f"{human(report.done_bytes)} of {human(report.bytes)}"
            )

    def summary(self, report: CopyReport, source: Path) -> None:
        verb = "Would upload" if self.dry_run else "Uploaded"
        self.stdout.write(
            f"{report.files} file(s) in {source}, {human(report.bytes)}: "
            f"{verb} {report.uploaded} ({human(report.uploaded_bytes)}), "
            f"already in the bucket {report.skipped} ({human(report.skipped_bytes)}), "
            f"failed {len(report.failed)}."
        )
        for name, why in report.failed:
            self.stderr.write(f"failed       {name}: {why}")
        if report.missing:
            self.stderr.write(f"{len(report.missing)} row(s) name files missing from {source}:")
            for row in report.missing:
                self.stderr.write(f"missing      {row}")
