"""Sign 100 MB and 500 MB results with content credentials; print the added time and memory.

    .venv/bin/python bench/provenance.py [--sizes 100,500]

For each size, builds a real MP4 of about that size (noise frames encoded once, their packets
muxed again and again with rising timestamps), then in a fresh child process each: stores it as
studio/takes/download.py stores a result (SHA-256, then saved through the local media storage,
fsynced), and signs it first (studio.provenance.manifests.manifest_sign with the instance's own
identity and a take's manifest, into a scratch copy) then stores that. Each child reports its
wall time and how far its peak resident memory (VmHWM) rose above what it held after start-up.

Storing alone is the strictest anchor (a copy from the page cache). A second pair of children
measures the whole step a take's result goes through (studio/takes/download.py): fetched over
HTTP from a server on 127.0.0.1, probed, given a poster and a thumbnail, then hashed and stored,
without and with signing.

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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def peak_kb() -> int:
    text = Path("/proc/self/status").read_text()
    match = re.search(r"VmHWM:\s+(\d+) kB", text)
    return int(match.group(1)) if match else 0


def make_mp4(path: Path, megabytes: int) -> Path:
    """A valid H.264 MP4 of about `megabytes` MB, in seconds rather than minutes: one second of
    noise frames is encoded once, then its packets are muxed again and again with rising times."""
    import av

    width, height, fps = 1280, 720, 25
    second = path.with_name(f"second-{path.name}")
    with av.open(str(second), "w") as scratch:
        stream = scratch.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "qp": "0", "g": "1"}
        for index in range(fps):
            frame = av.VideoFrame(width, height, "yuv420p")
            for plane in frame.planes:
                plane.update(os.urandom(plane.buffer_size))
            frame.pts = index
            scratch.mux(stream.encode(frame))
        scratch.mux(stream.encode())
    with av.open(str(second)) as source, av.open(str(path), "w", format="mp4") as out:
        template = source.streams.video[0]
        time_base = template.time_base
        packets = [bytes(p) for p in source.demux(template) if p.size]
        stream = out.add_stream_from_template(template)
        step = int(1 / (fps * time_base))
        written, index = 0, 0
        while written < megabytes * 1_000_000:
            packet = av.Packet(packets[index % len(packets)])
            packet.pts = packet.dts = index * step
            packet.time_base = time_base
            packet.is_keyframe = True
            packet.stream = stream
            out.mux(packet)
            written += packet.size
            index += 1
    second.unlink()
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
    fetching = mode.startswith("fetch")
    url = serve(source) if fetching else ""
    baseline = peak_kb()
    started = time.perf_counter()
    stored = source
    if fetching:
        stored = fetch_and_probe(url, dest.with_name(f"fetched-{dest.name}"))
        source = stored
    if mode.endswith("sign"):
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
    if fetching:
        for made in (source, source.with_suffix(".jpg"), source.with_suffix(".thumb.jpg")):
            made.unlink(missing_ok=True)
    print(json.dumps({"seconds": seconds, "growth_kb": peak_kb() - baseline}))


def serve(source: Path) -> str:
    """Serve `source`'s folder on 127.0.0.1 from a thread, as a provider's result link."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(source.parent))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/{source.name}"


def fetch_and_probe(url: str, dest: Path) -> Path:
    """What a take's result goes through before it is hashed and stored."""
    import requests

    from studio.media.probe import probe
    from studio.media.transcode import make_poster, make_thumbnail

    with requests.get(url, stream=True, timeout=30) as answer, dest.open("wb") as out:
        answer.raise_for_status()
        for chunk in answer.iter_content(1 << 20):
            out.write(chunk)
    info = probe(dest, max_seconds=120)
    make_poster(dest, dest.with_suffix(".jpg"), info)
    make_thumbnail(dest.with_suffix(".jpg"), dest.with_suffix(".thumb.jpg"))
    return dest


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
            f"{'size':>8} {'what':<22} {'without s':>9} {'signed s':>8} {'added':>7} "
            f"{'without MB':>10} {'signed MB':>9}"
        )
        for size in (int(s) for s in args.sizes.split(",")):
            source = make_mp4(base / f"result-{size}.mp4", size)
            real = source.stat().st_size / 1e6
            run_child("store", source, base / "warm.mp4", base / "data")  # warm the page cache
            for label, plain, signed in (
                ("stored alone", "store", "sign"),
                ("as a take's result", "fetch-store", "fetch-sign"),
            ):
                store = run_child(plain, source, base / "stored.mp4", base / "data")
                sign = run_child(signed, source, base / "signed.mp4", base / "data")
                added = sign["seconds"] / store["seconds"] - 1
                print(
                    f"{real:>6.0f}MB {label:<22} {store['seconds']:>9.2f} {sign['seconds']:>8.2f} "
                    f"{added:>6.0%} {store['growth_kb'] / 1024:>10.1f} "
                    f"{sign['growth_kb'] / 1024:>9.1f}"
                )
            source.unlink()
        print("anchor: signing adds <= 15 % to storing the file; memory flat with file size")


if __name__ == "__main__":
    main()
