"""Check that the default storage holds every file a database row names (local or bucket)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from studio.core.terminal import escaped
from studio.storage.multipart import OpenUpload, open_uploads
from studio.storage.services import bucket_of, storage_check


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
            help="Also list stored files that no row names, and the bucket's open (unfinished) "
            "multipart uploads (they do not change the status).",
        )
        parser.add_argument(
            "--abort-multipart",
            action="store_true",
            help="Abort the bucket's open multipart uploads that have had no new part for an "
            "hour (younger ones may still be under way and are only listed).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = storage_check(checksums=options["checksums"], orphans=options["orphans"])
        for problem in report.problems:
            detail = f" ({problem.detail})" if problem.detail else ""
            self.say(f"{problem.kind:<9} {problem.row}{detail}")
        for name in report.orphans:
            self.say(f"orphan    {name}")
        uploads = ""
        if options["orphans"] or options["abort_multipart"]:
            uploads = self.multipart(abort=options["abort_multipart"])
        self.stdout.write(
            f"Checked {report.files} file(s) named by {report.rows} row field(s): "
            f"{len(report.problems)} problem(s)"
            + (f", {len(report.orphans)} orphan(s)" if options["orphans"] else "")
            + f"{uploads}."
        )
        if report.problems:
            raise CommandError(f"{len(report.problems)} file row(s) are not right.", returncode=1)

    def say(self, line: str) -> None:
        """Names come from the bucket and the rows: any escape sequence in them is shown as text."""
        self.stdout.write(escaped(line))

    def multipart(self, *, abort: bool) -> str:
        """List (and with `abort`, abort the abandoned) open multipart uploads; the summary's
        part about them."""
        bucket = bucket_of(default_storage)
        if bucket is None:
            return ""  # files on disk: there are no multipart uploads
        now = timezone.now()
        uploads, aborted = open_uploads(bucket), 0
        for upload in uploads:
            if abort and upload.abandoned(now):
                bucket.abort(upload.key, upload.upload_id)
                aborted += 1
                self.say(f"aborted   {upload.name} ({_when(upload)})")
            else:
                left = "; under way within the hour, left open" if abort else ""
                self.say(f"multipart {upload.name} ({_when(upload)}{left})")
        if not uploads and not abort:
            return ""
        return f", {len(uploads)} open multipart upload(s)" + (
            f", {aborted} aborted" if abort else ""
        )


def _when(upload: OpenUpload) -> str:
    begun = f"{upload.begun:%Y-%m-%d %H:%M} UTC"
    last = f"{upload.last_part:%Y-%m-%d %H:%M} UTC" if upload.last_part else "none"
    return f"open multipart upload begun {begun}, last part {last}, upload id {upload.upload_id}"
