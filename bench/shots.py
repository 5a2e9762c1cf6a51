"""Speed and memory of shot-cut detection next to a plain decode of the same clip.

    .venv/bin/python bench/shots.py [--seconds 60] [--runs 2]

Makes a 1080p 25 fps H.264 clip (libx264 veryfast: CABAC and B-frames, as cameras and editors
write them) with a hard cut every 7-15 s, then times (a) a plain PyAV decode of every frame and
(b) studio.media.shots.shot_cuts on it, each in a process of its own. Prints for both the wall
time, the CPU time (all threads: other load on the machine does not inflate it as it does the
wall clock) and the peak resident memory, their ratio, and the cuts found against the cuts made.
Detection keeps six 64x36 frames at a time, so its memory does not grow with the clip (try
--seconds 300 --preset ultrafast). Target: a 60 s 1080p clip in a few seconds on 2 cores.
"""

from __future__ import annotations

import argparse
import atexit
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(step: str, source: Path, runs: int) -> None:
    """In a process of its own, so its peak memory is the step's alone."""
    from studio.media.shots import shot_cuts

    def decode() -> None:
        with av.open(str(source)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for _frame in container.decode(stream):
                pass

    found: list[float] = []
    times = []
    for _ in range(runs):
        started, cpu = time.monotonic(), cpu_seconds()
        if step == "decode":
            decode()
        else:
            found = shot_cuts(source)
        times.append((time.monotonic() - started, cpu_seconds() - cpu))
    wall, cpu = min(times)
    print(f"{wall:.3f} {cpu:.3f} {peak_mb():.0f} {' '.join(map(str, found))}")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--preset", default="veryfast", help="libx264 preset of the source")
    parser.add_argument("--step", choices=["decode", "detect"], help=argparse.SUPPRESS)
    parser.add_argument("--source", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        measure(args.step, args.source, args.runs)
        return
    from tests.samples import make_shots

    folder = Path(tempfile.mkdtemp(prefix="cutroom-shots-bench-"))
    atexit.register(shutil.rmtree, folder, True)
    made = []
    at = 0.0
    for step in (7.0, 12.5, 13.5, 15.0, 9.0):
        at += step
        made.append(at)
    while made[-1] + 15.0 < args.seconds:
        made.append(made[-1] + 11.0)
    made = [cut for cut in made if cut < args.seconds - 1]
    started = time.monotonic()
    source = make_shots(
        folder / "source.mp4", seconds=args.seconds, cuts=tuple(made), preset=args.preset
    )
    print(
        f"source: 1920x1080, 25 fps, {args.seconds:g} s, {len(made)} cuts "
        f"(made in {time.monotonic() - started:.1f} s)"
    )
    results = {}
    for step in ("decode", "detect"):
        command = [sys.executable, __file__, "--step", step, "--source", str(source)]
        command += ["--runs", str(args.runs)]
        seconds, cpu, peak, *found = subprocess.run(
            command, check=True, capture_output=True, text=True
        ).stdout.split()
        results[step] = float(seconds)
        print(f"{step:>7}: {float(seconds):.2f} s (CPU {float(cpu):.2f} s)   peak RSS {peak} MB")
        if step == "detect":
            print(f"cuts made:  {[round(cut, 2) for cut in made]}")
            print(f"cuts found: {[float(cut) for cut in found]}")
    print(f"shot cuts take {results['detect'] / results['decode']:.2f}x the plain decode")


if __name__ == "__main__":
    main()
