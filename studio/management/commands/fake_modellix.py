"""Run the fake Modellix (tests/fake_modellix.py) so a person can try the Modellix path."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Serve a fake Modellix API on 127.0.0.1 (no AI: the 'edit' returns the input video, or "
        "with --realistic a 30 fps result of the asked size, length and sound made from it)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", type=int, default=8788)
        parser.add_argument("--api-key", default="test-key")
        parser.add_argument("--task-seconds", type=float, default=20.0)
        parser.add_argument(
            "--unfetchable",
            choices=["reject", "fail"],
            default="reject",
            help="an input video it cannot fetch: answer the POST with 400, or fail the task",
        )
        parser.add_argument(
            "--realistic",
            action="store_true",
            help="return results shaped like the model's (30 fps, size, length, sound, an edit)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from tests.fake_modellix import FakeModellix

        fake = FakeModellix(
            api_key=options["api_key"],
            task_seconds=options["task_seconds"],
            port=options["port"],
            unfetchable=options["unfetchable"],
            realistic=options["realistic"],
        ).start()
        self.stdout.write(f"Fake Modellix on {fake.url} (Ctrl-C stops it). Run Cutroom with:")
        self.stdout.write(
            f"  STUDIO_PROVIDER=modellix MODELLIX_API_KEY={options['api_key']} "
            f"MODELLIX_BASE_URL={fake.url} STUDIO_DOWNLOAD_ALLOW_LOOPBACK=true make run"
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            fake.stop()
