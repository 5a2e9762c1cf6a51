from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection


class Command(BaseCommand):
    help = "Print where Cutroom keeps its data and which edit engine it uses."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.STUDIO_PROVIDER == "modellix" and settings.MODELLIX_API_KEY:
            engine = "Modellix wan2.7-videoedit"
        elif settings.STUDIO_PROVIDER == "modellix":
            engine = (
                "Modellix selected but MODELLIX_API_KEY is empty: edits will fail until it is set"
            )
        else:
            engine = (
                "local engine (deterministic filters, not AI). For the real model: "
                "STUDIO_PROVIDER=modellix MODELLIX_API_KEY=<your key> make run"
            )
        self.stdout.write(f"  Data directory: {settings.DATA_DIR}")
        self.stdout.write(
            f"  Database:       {connection.vendor} ({connection.settings_dict['NAME']})"
        )
        if settings.STORAGE == "s3":
            where = f"s3://{settings.S3_BUCKET}/{settings.S3_PREFIX}".rstrip("/")
            endpoint = settings.S3_ENDPOINT_URL or "AWS S3"
            self.stdout.write(f"  Media files:    {where} ({endpoint}, {settings.S3_REGION})")
        else:
            self.stdout.write(f"  Media files:    {settings.MEDIA_ROOT}")
        self.stdout.write(f"  Edit engine:    {engine}")
