"""Sign 100 MB and 500 MB results with content credentials; print the added time and memory.

    .venv/bin/python bench/provenance.py [--sizes 100,500]

For each size, builds a real MP4 of about that size (noise frames encoded once, their packets
muxed again and again with rising timestamps), then in a fresh child process each: stores it as
studio/takes/download.py stores a result (SHA-256, then saved through the local media storage,
fsynced), and signs it first (studio.provenance.manifests.manifest_sign with the instance's own
identity and a take's manifest, into a scratch copy) then stores that. Each child reports its
wall time and how far its peak resident memory (VmHWM) rose above what it held after start-up.

Targets (issue 24): signing adds at most 15 % to the time of storing the same file, and its
memory stays flat with file size (the file is streamed, never read whole).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def peak_kb() -> int:
    text = Path("/proc/self/status").read_text()
    match = re.search(r"VmHWM:\s+(\d+) kB", text)
    return int(match.group(1)) if match else 0


def make_mp4(path: Path, megabytes: int) -> Path:
    """A valid H.264 MP4 of about `megabytes` MB, in seconds rather than minutes."""
    import av

    width, height, fps = 1280, 720, 25
    packets = []
    with av.open(os.devnull, "w", format="mp4") as scratch:
        stream = scratch.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "qp": "0", "g": "1"}
        for index in range(fps):
            frame = av.VideoFrame(width, height, "yuv420p")
            for plane in frame.planes:
                plane.update(os.urandom(plane.buffer_size))
            frame.pts = index
            packets += [bytes(p) for p in stream.encode(frame)]
        packets += [bytes(p) for p in stream.encode()]
        extradata = stream.codec_context.extradata
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("h264", rate=fps)
        stream.width, stream.height = width, height
        stream.codec_context.extradata = extradata
        stream.time_base = Fraction(1, fps)
        written, index = 0, 0
        while written < megabytes * 1_000_000:
            data = packets[index % len(packets)]
            packet = av.Packet(data)
            packet.pts = packet.dts = index
            packet.time_base = Fraction(1, fps)
            packet.stream = stream
            packet.is_keyframe = True
            out.mux(packet)
            written += len(data)
            index += 1
    return path


def child(mode: str, source: Path, dest: Path) -> None:
    """Store `source` as a take's result is stored (hashed, then saved through the media
    storage); with mode "sign", sign it into a scratch copy first and store that."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    import django

    django.setup()
    from django.core.files import File
    from django.core.files.storage import FileSystemStorage

    from studio.provenance.identity import signing_identity
    from studio.provenance.manifests import Source, manifest_sign, take_manifest
    from studio.storage.files import sha256_of

    storage = FileSystemStorage(location=dest.parent / "media")
    signing_identity()  # made before the clock starts, as at start-up
    baseline = peak_kb()
    started = time.perf_counter()
    stored = source
    if mode == "sign":
        manifest = take_manifest(
            title=dest.name,
            source=Source("clip.mp4", "0" * 64),
            references=[],
            model="wan2.7-videoedit",
            provider="modellix",
            made_with_ai=True,
            version="bench",
            when=dt.datetime.now(dt.UTC),
        )
        manifest_sign(source=source, dest=dest, manifest=manifest)
        stored = dest
    sha256_of(stored)
    with stored.open("rb") as handle:
        name = storage.save(f"takes/{mode}.mp4", File(handle))
    with open(storage.path(name), "rb+") as handle:
        os.fsync(handle.fileno())
    seconds = time.perf_counter() - started
    storage.delete(name)
    dest.unlink(missing_ok=True)
    print(json.dumps({"seconds": seconds, "growth_kb": peak_kb() - baseline}))


def run_child(mode: str, source: Path, dest: Path, data_dir: Path) -> dict[str, float]:
    env = {**os.environ, "STUDIO_DATA_DIR": str(data_dir)}
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(source), str(dest)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100,500")
    parser.add_argument("--child", nargs=3, metavar=("MODE", "SOURCE", "DEST"))
    args = parser.parse_args()
    if args.child:
        mode, source, dest = args.child
        child(mode, Path(source), Path(dest))
        return
    with tempfile.TemporaryDirectory(prefix="bench-provenance-") as folder:
        base = Path(folder)
        (base / "data").mkdir()
        print(
            f"{'size':>8} {'store s':>8} {'sign s':>8} {'added':>7} {'store MB':>9} {'sign MB':>8}"
        )
        for size in (int(s) for s in args.sizes.split(",")):
            source = make_mp4(base / f"result-{size}.mp4", size)
            real = source.stat().st_size / 1e6
            run_child("store", source, base / "warm.mp4", base / "data")  # warm the page cache
            store = run_child("store", source, base / "stored.mp4", base / "data")
            sign = run_child("sign", source, base / "signed.mp4", base / "data")
            added = sign["seconds"] / store["seconds"] - 1
            print(
                f"{real:>6.0f}MB {store['seconds']:>8.2f} {sign['seconds']:>8.2f} {added:>6.0%} "
                f"{store['growth_kb'] / 1024:>9.1f} {sign['growth_kb'] / 1024:>8.1f}"
            )
            source.unlink()


if __name__ == "__main__":
    main()
