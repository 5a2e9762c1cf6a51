"""Speed of the local engine next to a plain PyAV transcode of the same clip.

    .venv/bin/python bench/engine.py [--seconds 10] [--look clay]

Makes a 10 s 1080p H.264 clip, then times (a) a plain decode + encode with the engine's encoder
settings (libx264 veryfast, CRF 20, 1920x1080, 30 fps, AAC) and (b) the engine rendering a
typical look at 1080P. Prints frames per second for both and their ratio; the target is that the
look costs at most 30 % over the plain transcode (ratio >= 0.7). Beside the speed: each file's
size and the CPU time of the run (all threads), which other load on the machine does not
inflate as it does the wall clock.

Anchors for the default 10 s: 4.0 MB plain and 4.8 MB for the look while libx264 copied the
source's frame types (issue 20: 2.4 MB and 3.4 MB once it chose them itself).
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
if "STUDIO_DATA_DIR" not in os.environ:
    os.environ["STUDIO_DATA_DIR"] = tempfile.mkdtemp(prefix="cutroom-engine-")
    atexit.register(shutil.rmtree, os.environ["STUDIO_DATA_DIR"], True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--look", default="clay")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    import django

    django.setup()
    from studio.media.probe import probe
    from studio.media.transcode import transcode
    from studio.providers.local import render as engine
    from studio.takes.parameters import EditParameters
    from tests.samples import make_video

    folder = Path(tempfile.mkdtemp(prefix="cutroom-engine-bench-"))
    atexit.register(shutil.rmtree, folder, True)
    source = make_video(
        folder / "source.mp4", seconds=args.seconds, width=1920, height=1080, fps=30
    )
    info = probe(source, max_seconds=600)
    frames = round(args.seconds * 30)
    print(f"source: {info.width}x{info.height}, {info.duration:.1f} s, {frames} frames")

    def timed(action) -> tuple[float, float]:
        """The best wall time of the runs, and the CPU time (all threads) of that run: the
        CPU time is what other load on the machine does not inflate."""
        best = (float("inf"), 0.0)
        for _ in range(args.runs):
            started, cpu = time.perf_counter(), time.process_time()
            action()
            best = min(best, (time.perf_counter() - started, time.process_time() - cpu))
        return best

    plain = timed(
        lambda: transcode(
            source, folder / "plain.mp4", info=info, size=(1920, 1080), crf=20, fps=30
        )
    )
    look = timed(
        lambda: engine.render(
            source,
            folder / "look.mp4",
            info=info,
            parameters=EditParameters(prompt=args.look, resolution="1080P", seed=1),
        )
    )
    for label, (seconds, cpu), name in (
        ("plain PyAV transcode:", plain, "plain.mp4"),
        (f"engine, look {args.look!r}:", look, "look.mp4"),
    ):
        size = (folder / name).stat().st_size / 1024 / 1024
        print(
            f"{label:<22} {frames / seconds:6.1f} fps ({seconds:.1f} s, {cpu:.1f} CPU s), "
            f"{size:.1f} MB"
        )
    print(
        f"ratio engine/plain: {plain[0] / look[0]:.2f}, in CPU time {plain[1] / look[1]:.2f} "
        "(target >= 0.70)"
    )
    print("anchor (10 s): 4.0 MB plain, 4.8 MB look, with the source's frame types copied")


if __name__ == "__main__":
    main()
