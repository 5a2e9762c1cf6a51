"""Turn the Procfile into a supervisord configuration and become supervisord (see supervision)."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from studio.ops import supervision


class Command(BaseCommand):
    help = "Run the Procfile's processes under supervisord: one that exits is restarted alone."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--procfile", type=Path, default=settings.BASE_DIR / "Procfile")

    def handle(self, *args: Any, procfile: Path, **options: Any) -> None:
        directory = Path(settings.DATA_DIR).resolve()
        if supervision.already_running(directory):
            raise CommandError(
                f"Cutroom is already running on the data in {directory}. Stop it first (Ctrl-C "
                f"where it runs), or set STUDIO_DATA_DIR and PORT to run a second copy."
            )
        try:
            entries = supervision.procfile_entries(procfile.read_text())
        except (OSError, supervision.ProcfileError) as error:
            raise CommandError(f"{procfile}: {error}") from error
        conf = directory / "supervisord.conf"
        text = supervision.config_text(
            entries=entries,
            directory=directory,
            base_dir=Path(settings.BASE_DIR).resolve(),
            python=sys.executable,
            # Only for supervisorctl, which reads it from the same file; a new one every start.
            password=secrets.token_urlsafe(24),
            as_root=os.geteuid() == 0,
        )
        # The file holds the control password: readable by this user only.
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.chmod(conf, 0o600)
        shown = conf.relative_to(Path.cwd()) if conf.is_relative_to(Path.cwd()) else conf
        self.stdout.write(
            f"  Restart or stop one process: .venv/bin/supervisorctl -c {shown} restart worker\n"
        )
        self.stdout.flush()
        # A child waits for the web server to answer and only then prints the address; this
        # process becomes supervisord, which starts the web server.
        address, asked = supervision.web_address(
            os.environ.get("HOST", "127.0.0.1"), os.environ.get("PORT", "8000")
        )
        parent = os.getpid()
        if os.fork() == 0:
            try:
                supervision.announce_when_answering(address, asked, sys.stdout, parent=parent)
            finally:
                os._exit(0)
        argv = [sys.executable, "-m", "supervisor.supervisord", "-n", "-c", str(conf)]
        os.execv(sys.executable, argv)  # noqa: S606 (fixed argv)
