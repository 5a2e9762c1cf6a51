"""Speed and memory of rendering a cut, next to a plain PyAV decode + encode of the same clip.

    nice -n 5 .venv/bin/python bench/cut.py [--seconds 60] [--long 300] [--windows 6]
        [--takes natural|posterized]

Makes a 1080p 25 fps H.264/AAC clip of `--seconds` and one take per window: the fake Modellix's
result for the window's provider input with 1 s handles (tests/fake_results.py: 30 fps,
alternately 1080P and 720P; one window uses the take's own sound, one matches colour), then
runs, each in its own process: (a) the floor, a plain decode + encode of the clip with the cut's
encoder settings (libx264, the same preset, CRF and options; AAC), and (b) the cut render
(studio/media/cut.py). Prints the wall and CPU time of both, their ratio (target <= 1.15) and
each process's peak resident memory (target <= 400 MB for the render). With --long N it renders
an N-second clip with the same windows too: the render's peak memory must not grow with the
clip's length.

The takes are realistic by default (`--takes natural`): what wan2.7-videoedit returns is
30 fps H.264 at 720P or 1080P at an ordinary bitrate, and the fake gives the input's pictures
with a smooth colour grade, encoded with libx264's defaults (preset medium, CRF 23; about
4 Mbit/s here). `--takes posterized` uses the tests' look instead (8 levels of luma encoded
with x264's ultrafast preset, about 28 Mbit/s at 1080P, 3x the source's bits once
re-encoded): no model gives that, and both its decode and its re-encode cost the render.

The clip is the test samples' moving gradient made with x264's ultrafast preset: cheap to make
and to encode; real footage costs both sides more, the floor included. The floor encodes the
source's pictures, the render the takes' in the windows: where the takes are harder to encode
(more bits), that difference is in the ratio too. So the render is also set against a plain
decode + encode of its own output (the same pictures): that ratio is the render's own cost.

CPU seconds are the figures to compare: the machine is shared, so wall time follows the load.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HANDLE = 1.0
ANCHORS = (
    "anchors (issue 22, 2 cores shared with other work, load 5-11; compare CPU s), 60 s clip,\n"
    "natural takes (0.9-1.8 Mbit/s), three runs: plain 50.4 / 48.2 / 44.9 CPU s, render\n"
    "73.8 / 65.2 / 66.0 (1.47x / 1.35x / 1.47x; 0.99x / 1.01x / 1.00x a plain transcode of the\n"
    "cut itself: at CRF 16 the cut is 26 MB, the source 16 MB); posterized takes: plain 49.4,\n"
    "render 74.6 (1.51x; 1.54x before the picture arithmetic read planes in place). Peak RSS\n"
    "318-320 MB at 60 s, 320 MB at 300 s (plain: 222)"
)
WINDOW = 5.0


def windows(seconds: float, count: int) -> list[tuple[float, float]]:
    """`count` windows of 5 s spread evenly over the clip."""
    spacing = seconds / count
    return [
        (round(i * spacing + 2.0, 2), round(i * spacing + 2.0 + WINDOW, 2)) for i in range(count)
    ]


def make_clips(folder: Path, seconds: float, count: int, takes: str) -> None:
    """The clip, and for each window the fake Modellix's result for its provider input (the
    window with its handles): the input's motion with an edit, 30 fps, as the model gives."""
    from studio.media.inputs import make_input
    from studio.media.probe import probe
    from tests.fake_results import make_result
    from tests.samples import make_video

    source = make_video(folder / "source.mp4", seconds=seconds, width=1920, height=1080, fps=25)
    info = probe(source, max_seconds=seconds + 1)
    for index, (start, end) in enumerate(windows(seconds, count)):
        sent = folder / "input.mp4"
        make_input(source, sent, info=info, start=start - HANDLE, length=end - start + 2 * HANDLE)
        body = {
            "resolution": "1080P" if index % 2 == 0 else "720P",
            "ratio": "16:9",
            "audio_setting": "auto" if index == 1 else "origin",
        }
        result = make_result(sent.read_bytes(), body, natural=takes == "natural")
        (folder / f"take-{index}.mp4").write_bytes(result.data)
        sent.unlink()


def child_plain(folder: Path, name: str) -> None:
    """A floor: decode every frame and sample of `name`, encode them with the cut's settings."""
    import av
    from av.video.frame import PictureType

    from studio.media.cut import CRF, PRESET
    from studio.media.cut_sound import sound_graph
    from studio.media.transcode import AUDIO_RATE, _encode_audio, _push, x264_options

    with (
        av.open(str(folder / name)) as container,
        av.open(
            str(folder / f"plain-{name}"), "w", format="mp4", options={"movflags": "+faststart"}
        ) as out,
    ):
        vin, ain = container.streams.video[0], container.streams.audio[0]
        vin.thread_type = "AUTO"
        vout = out.add_stream("libx264", rate=vin.average_rate)
        vout.width, vout.height, vout.pix_fmt = vin.width, vin.height, "yuv420p"
        vout.time_base = vin.time_base
        vout.codec_context.time_base = vin.time_base
        vout.options = {"preset": PRESET, "crf": str(CRF), **x264_options()}
        aout = out.add_stream("aac", rate=AUDIO_RATE)
        aout.layout, aout.bit_rate = "stereo", 160_000
        graph = sound_graph(ain)
        samples = 0
        for packet in container.demux(vin, ain):
            for frame in packet.decode():
                if packet.stream is vin:
                    frame.pict_type = PictureType.NONE
                    out.mux(vout.encode(frame))
                else:
                    _push(graph, frame)
                    samples += _encode_audio(graph, aout, out, samples)
        out.mux(vout.encode())
        _push(graph, None)
        _encode_audio(graph, aout, out, samples)
        out.mux(aout.encode())


def child_render(folder: Path, seconds: float, count: int) -> str:
    from studio.media.cut import Splice, cut_render

    splices = [
        Splice(
            start=start,
            end=end,
            take=folder / f"take-{index}.mp4",
            take_offset=HANDLE,
            take_sound=index == 1,
            colour_match=index == 3,
        )
        for index, (start, end) in enumerate(windows(seconds, count))
    ]
    report = cut_render(folder / "source.mp4", splices, folder / "cut.mp4")
    scores = ", ".join(f"{seam.score:.0f}" for seam in report.seams)
    return f"{report.frames} frames, {len(report.seams)} joins scored {scores}"


def run_child(*arguments: str) -> dict[str, Any]:
    """Run one step in a fresh process (started from this small one, so its peak memory is its
    own): wall time, CPU time, the child's peak RSS (getrusage in the child; RUSAGE_CHILDREN here
    says the same for the largest child so far) and what it printed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__, "--child", *arguments],
        check=True,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["wall"] = wall
    figures["cpu"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    figures["children_peak_mb"] = after.ru_maxrss / 1024
    return figures


TARGET_RATIO = 1.15  # render CPU over the floor's (issue 22)
TARGET_PEAK_MB = 400  # the render worker's peak resident memory (issue 22)


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def measure(seconds: float, count: int, takes: str, *, floor: bool) -> float:
    """Make the clip and its takes, run the steps and print their figures; the render's peak
    resident memory (MB)."""
    folder = Path(tempfile.mkdtemp(prefix="cutroom-cut-bench-"))
    try:
        made = run_child("make", str(folder), str(seconds), str(count), takes)
        size = (folder / "source.mp4").stat().st_size / 1e6
        rates = [
            (folder / f"take-{index}.mp4").stat().st_size * 8 / 1e6 / (WINDOW + 2 * HANDLE)
            for index in range(count)
        ]
        print(
            f"clip: {seconds:.0f} s 1920x1080 25 fps ({size:.0f} MB), {count} windows of "
            f"{WINDOW:.0f} s with {takes} takes ({min(rates):.1f}-{max(rates):.1f} Mbit/s); "
            f"made in {made['wall']:.0f} s"
        )
        results = {}
        if floor:
            results["plain, the source"] = run_child("plain", str(folder), "source.mp4")
        results["cut render"] = run_child("render", str(folder), str(seconds), str(count))
        if floor:
            results["plain, the cut"] = run_child("plain", str(folder), "cut.mp4")
        for label, figures in results.items():
            fps = seconds * 25 / figures["wall"]
            name = "cut.mp4" if label == "cut render" else f"plain-{label.split()[-1]}.mp4"
            mb = (folder / name).stat().st_size / 1e6
            print(
                f"  {label:<18} {figures['wall']:6.1f} s ({fps:5.1f} fps, {figures['cpu']:5.1f} "
                f"CPU s), peak RSS {figures['peak_mb']:4.0f} MB, output {mb:.0f} MB"
            )
        render = results["cut render"]
        print(f"  render: {render['note']}")
        if floor:
            for label in ("plain, the source", "plain, the cut"):
                plain = results[label]
                ratio = render["cpu"] / plain["cpu"]
                print(
                    f"  render / {label}: {ratio:.2f}x CPU (target <= {TARGET_RATIO}x: "
                    f"{verdict(ratio <= TARGET_RATIO)}), {render['wall'] / plain['wall']:.2f}x wall"
                )
        peak = float(render["peak_mb"])
        print(
            f"  render peak RSS: {peak:.0f} MB (target <= {TARGET_PEAK_MB} MB: "
            f"{verdict(peak <= TARGET_PEAK_MB)})"
        )
        return peak
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def child(kind: str, folder: Path, rest: list[str]) -> None:
    note = ""
    if kind == "make":
        make_clips(folder, float(rest[0]), int(rest[1]), rest[2])
    elif kind == "plain":
        child_plain(folder, rest[0])
    else:
        note = child_render(folder, float(rest[0]), int(rest[1]))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"peak_mb": peak, "note": note}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--long", type=float, default=300.0, help="0: skip the long clip")
    parser.add_argument("--windows", type=int, default=6)
    parser.add_argument("--takes", choices=("natural", "posterized"), default="natural")
    parser.add_argument("--child", nargs="+")
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), args.child[2:])
        return
    short = measure(args.seconds, args.windows, args.takes, floor=True)
    if args.long:
        long = measure(args.long, args.windows, args.takes, floor=False)
        # Flat: the long clip's peak within 10 % (or 20 MB) of the short one's.
        flat = long <= max(short * 1.1, short + 20)
        print(
            f"memory with the clip's length: {short:.0f} MB at {args.seconds:.0f} s, {long:.0f} MB "
            f"at {args.long:.0f} s (target flat, <= {TARGET_PEAK_MB} MB: "
            f"{verdict(flat and long <= TARGET_PEAK_MB)})"
        )
    print(
        f"targets: render <= {TARGET_RATIO}x the plain decode + encode (CPU); render peak RSS "
        f"<= {TARGET_PEAK_MB} MB, flat with the clip's length"
    )
    print(ANCHORS)


if __name__ == "__main__":
    main()
