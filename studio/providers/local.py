"""The local engine: deterministic filters rendered by PyAV in the worker. Not AI, and said so.

It lets every part of Cutroom work with no API key: a take goes through the same lifecycle as
with Modellix (prepare, send, status, fetch), and the result honours the resolution, ratio,
duration and sound settings. The look comes from words in the prompt.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings

from studio.media.probe import probe
from studio.media.transcode import transcode
from studio.providers.base import EditRequest, Failure, ProviderError, Submitted, TaskStatus

# Output sizes of the real model (provider notes, section 2.3).
SIZES = {
    "720P": {
        "16:9": (1280, 720),
        "9:16": (720, 1280),
        "1:1": (960, 960),
        "4:3": (1104, 832),
        "3:4": (832, 1104),
    },
    "1080P": {
        "16:9": (1920, 1080),
        "9:16": (1080, 1920),
        "1:1": (1440, 1440),
        "4:3": (1648, 1248),
        "3:4": (1248, 1648),
    },
}
LOOKS: list[tuple[tuple[str, ...], str, list[tuple[str, str]]]] = [
    (
        ("black and white", "black-and-white", "noir", "monochrome", "grayscale", "黑白"),
        "black and white",
        [("hue", "s=0"), ("curves", "preset=increase_contrast")],
    ),
    (
        ("sepia", "vintage", "old film", "retro", "复古"),
        "sepia",
        [("colorchannelmixer", ".393:.769:.189:0:.349:.686:.168:0:.272:.534:.131")],
    ),
    (
        ("clay", "claymation", "cartoon", "anime", "粘土", "动漫"),
        "flat cartoon colours",
        [("gblur", "sigma=2"), ("curves", "preset=increase_contrast"), ("hue", "s=1.6")],
    ),
    (
        ("warm", "sunset", "golden", "温暖"),
        "warm grade",
        [("colorbalance", "rs=.15:gs=.05:bs=-.15:rm=.1:bm=-.1")],
    ),
    (
        ("cold", "winter", "blue", "night", "冷"),
        "cool grade",
        [("colorbalance", "rs=-.15:bs=.2:rm=-.1:bm=.15")],
    ),
    (
        ("sketch", "pencil", "line art", "素描"),
        "pencil sketch",
        [("edgedetect", "mode=colormix:high=0.2"), ("hue", "s=0"), ("negate", "")],
    ),
]


def look_for(prompt: str, seed: int) -> tuple[str, list[tuple[str, str]]]:
    text = prompt.lower()
    for words, name, filters in LOOKS:
        if any(word in text for word in words):
            return name, filters
    # Nothing recognised: a seed-dependent hue turn, so different seeds differ visibly.
    degrees = seed % 360
    return f"hue turned {degrees}°", [("hue", f"h={degrees}")]


def output_size(resolution: str, ratio: str, width: int, height: int) -> tuple[int, int]:
    if not ratio:
        aspect = width / height
        ratio = min(
            SIZES[resolution],
            key=lambda r: abs(SIZES[resolution][r][0] / SIZES[resolution][r][1] - aspect),
        )
    return SIZES[resolution][ratio]


def _folder() -> Path:
    folder = Path(settings.FILE_UPLOAD_TEMP_DIR) / "local-engine"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class LocalEngine:
    name = "local"
    label = "Local engine (filters, not AI)"

    def prepare(self, request: EditRequest) -> dict[str, Any]:
        return {
            "video": str(request.video.path),
            "prompt": request.prompt,
            "resolution": request.resolution,
            "ratio": request.ratio,
            "duration": request.duration,
            "audio_setting": request.audio_setting,
            "seed": request.seed,
        }

    def send(self, payload: dict[str, Any]) -> Submitted:
        task_id = f"local-{uuid.uuid4().hex[:16]}"
        source = Path(str(payload["video"]))
        info = probe(source, max_seconds=60)
        size = output_size(
            str(payload["resolution"]), str(payload["ratio"]), info.width, info.height
        )
        name, look = look_for(str(payload["prompt"]), int(payload["seed"]))
        target_w, target_h = size
        crop = f"min(iw\\,ih*{target_w}/{target_h}):min(ih\\,iw*{target_h}/{target_w})"
        length = int(payload["duration"]) or None
        try:
            transcode(
                source,
                _folder() / f"{task_id}.mp4",
                info=info,
                size=size,
                length=length,
                keep_audio=True,
                look=[*look, ("crop", crop)],
            )
        except Exception as error:
            raise ProviderError(
                "The local engine could not render this clip.", Failure.REJECTED, detail=repr(error)
            ) from None
        note = {
            "look": name,
            "sha": hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest(),
        }
        (_folder() / f"{task_id}.json").write_text(json.dumps(note))
        return Submitted(task_id=task_id)

    def status(self, task_id: str) -> TaskStatus:
        if not (_folder() / f"{task_id}.mp4").exists():
            raise ProviderError("The local engine has no such task.", Failure.REJECTED)
        return TaskStatus(
            state="succeeded", result_urls=(f"local://{task_id}",), raw_status="success"
        )

    def fetch(self, url: str, dest: Path, *, max_bytes: int) -> int:
        task_id = url.removeprefix("local://")
        source = _folder() / f"{task_id}.mp4"
        if not source.exists():
            raise ProviderError("The local result is gone.", Failure.EXPIRED)
        shutil.move(source, dest)
        (_folder() / f"{task_id}.json").unlink(missing_ok=True)
        return dest.stat().st_size
