"""Real full disks for the tests: a small tmpfs mounted on a folder, then filled.

Mounting needs root (the CI runs the tests as root). Where it cannot be done, `mount` answers
False and the test injects the error a full disk raises at the write instead (see its callers).
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from pathlib import Path

FILLER = ".filler"  # the file that takes the disk's last byte, at the top of the mount


class FullDisks:
    """The tmpfs mounts of one test, unmounted when it ends (the `full_disks` fixture)."""

    def __init__(self) -> None:
        self.mounted: list[Path] = []

    def mount(self, folder: Path, *, megabytes: int = 1) -> bool:
        """Make `folder` a disk of its own of `megabytes`; False when this host cannot."""
        folder.mkdir(parents=True, exist_ok=True)
        mount = shutil.which("mount")
        if mount is None or os.geteuid() != 0:
            return False
        options = f"size={megabytes}m,mode=0700"
        try:
            subprocess.run(  # noqa: S603 (fixed argv)
                [mount, "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                check=True,
                capture_output=True,
                timeout=30,
            )
        except (OSError, subprocess.SubprocessError):
            return False
        self.mounted.append(folder)
        return True

    def fill(self, folder: Path) -> None:
        """Write to the mount on `folder` until it is full."""
        chunk = b"\0" * 65536
        with (folder / FILLER).open("ab", buffering=0) as filler:
            try:
                while True:
                    filler.write(chunk)
            except OSError as error:
                assert error.errno == errno.ENOSPC, error
        # What little is left is less than one write of any file Cutroom makes.
        assert (folder / FILLER).stat().st_size > 0

    def unmount(self) -> None:
        umount = shutil.which("umount") or "/bin/umount"
        for folder in reversed(self.mounted):
            for how in ([], ["-l"]):  # lazily when something still holds a file open there
                done = subprocess.run(  # noqa: S603 (fixed argv)
                    [umount, *how, str(folder)], capture_output=True, timeout=30
                )
                if done.returncode == 0:
                    break
        self.mounted.clear()
