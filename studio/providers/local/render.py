"""The local engine's renderer: deterministic libavfilter looks chosen from the prompt.

Not generative AI. It honours every parameter of wan2.7-videoedit so the whole studio works with
no API key: output size and ratio as the real model's, duration, sound, looks from English and
Chinese words (combinable), a negative prompt that removes what it names, reference images that
pull the colours toward their palette, and a seed that varies grain and strength a little while
giving identical frames for identical inputs.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageStat

from studio.media.probe import VideoInfo
from studio.media.transcode import Encoded, even, open_video, transcode
from studio.takes.parameters import EditParameters

FPS = 30
# The real model's output sizes (provider notes, section 2.3).
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
RATIOS = {"16:9": 16 / 9, "9:16": 9 / 16, "1:1": 1.0, "4:3": 4 / 3, "3:4": 3 / 4}


@dataclass(frozen=True)
class Effect:
    name: str  # an avfilter
    args: str
    says: str  # what it does, in the words a person uses (the filter name is ours, not theirs)
    tags: frozenset[str] = frozenset()  # what a negative prompt may name to remove it


def fx(name: str, args: str, says: str, *tags: str) -> Effect:
    return Effect(name, args, says, frozenset(tags))


@dataclass(frozen=True)
class Look:
    name: str
    words: tuple[str, ...]
    effects: tuple[Effect, ...]
    note: str = ""  # said after the look's effects


BLUR = ("blur", "blurry", "soft", "模糊")
DARK = ("dark", "darker", "vignette", "暗")
SATURATED = ("saturated", "oversaturated", "colorful", "vivid", "鲜艳")
CONTRAST = ("contrast", "harsh", "对比")


# Grades are look-up tables on Y, U and V: filters that work in RGB (curves, colorbalance,
# colorchannelmixer) would convert every 1080p frame twice and triple the render time.
LIGHTER = "y='clip(val+(235-val)*0.18,16,235)'"


def contrast(gain: float) -> str:
    return f"y='clip((val-126)*{gain}+126,16,235)'"


def _poster(levels: int) -> str:
    step = 256 // levels
    return f"y='floor(val/{step})*{step}+{step // 2}'"


LOOKS = (
    Look(
        "clay",
        ("clay", "claymation", "plasticine", "粘土", "黏土"),
        (
            fx("gblur", "sigma=1.5:steps=1", "soft focus", *BLUR),
            fx("lutyuv", _poster(10), "flat clay-like shading", "posterize", "flat"),
            fx("hue", "s=1.3", "richer colour", *SATURATED),
        ),
    ),
    Look(
        "watercolor",
        ("watercolor", "watercolour", "water colour", "水彩"),
        (
            fx("gblur", "sigma=2:steps=1", "soft focus", *BLUR),
            fx("hue", "s=0.8", "paler colour", "pale", "washed"),
            fx("lutyuv", LIGHTER, "a lighter ground", "light", "bright"),
        ),
    ),
    Look(
        "pencil sketch",
        ("sketch", "pencil", "line art", "drawing", "素描", "铅笔"),
        (
            fx("hue", "s=0", "no colour", "grey"),
            fx(
                "edgedetect",
                "low=0.08:high=0.2:mode=wires:planes=y",
                "the outlines traced",
                "lines",
                "edges",
            ),
            fx("lutyuv", "y='235-val*0.85'", "dark pencil lines on white paper", "lines", "edges"),
        ),
    ),
    Look(
        "cartoon",
        ("anime", "cartoon", "comic", "动漫", "卡通", "漫画"),
        (
            fx("lutyuv", _poster(6), "flat cel shading", "posterize", "flat"),
            fx("hue", "s=1.5", "bold colours", *SATURATED),
            fx("unsharp", "3:3:1.2:3:3:0", "crisp outlines", "sharp", "outline"),
        ),
    ),
    Look(
        "black and white",
        ("black and white", "black-and-white", "monochrome", "grayscale", "greyscale", "黑白"),
        (fx("hue", "s=0", "no colour", "monochrome"),),
    ),
    Look(
        "sepia",
        ("sepia", "vintage", "old film", "retro", "复古", "怀旧"),
        (
            fx(
                "lutyuv",
                "u='(val-128)*0.15+114':v='(val-128)*0.15+142'",
                "warm brown sepia tones",
                "sepia",
            ),
            fx("lutyuv", contrast(0.9), "the faded contrast of old film", "faded"),
        ),
    ),
    Look(
        "noir",
        ("noir", "film noir", "黑色电影"),
        (
            fx("hue", "s=0", "no colour", "monochrome"),
            fx("lutyuv", contrast(1.6), "hard contrast with deep shadows", *CONTRAST, *DARK),
            fx("vignette", "PI/4", "darkened corners", *DARK),
        ),
    ),
    Look(
        "neon",
        ("neon", "cyberpunk", "synthwave", "赛博朋克", "霓虹"),
        (
            fx(
                "lutyuv",
                "u='clip(val+14,16,240)':v='clip(val+16,16,240)'",
                "magenta and cyan light",
                "magenta",
                "cyan",
            ),
            fx("hue", "s=1.8", "strong colour", *SATURATED),
            fx("lutyuv", contrast(1.3), "more contrast", *CONTRAST),
        ),
    ),
    Look(
        "warm",
        ("warm", "sunset", "golden", "暖色", "温暖", "夕阳"),
        (
            fx(
                "lutyuv",
                "u='clip(val-10,16,240)':v='clip(val+12,16,240)'",
                "warm golden colours",
                "warm",
            ),
        ),
    ),
    Look(
        "cool",
        ("cool", "cold", "winter", "icy", "冷色", "冬天"),
        (
            fx(
                "lutyuv",
                "u='clip(val+14,16,240)':v='clip(val-8,16,240)'",
                "cool blue colours",
                "cool",
            ),
        ),
    ),
    Look(
        "pixel art",
        ("pixel", "8-bit", "8 bit", "retro game", "像素"),
        (
            fx("pixelate", "12", "chunky 8-bit pixels", "pixel"),
            fx("lutyuv", _poster(8), "a reduced palette", "flat"),
        ),
    ),
    Look(
        "oil painting",
        ("oil painting", "oil paint", "painterly", "impasto", "油画"),
        (
            fx("lutyuv", _poster(24), "bands of colour", "posterize", "strokes"),
            fx("unsharp", "3:3:1.5:3:3:0", "crisp brush strokes", "sharp", "strokes"),
            fx("hue", "s=1.35", "rich colour", *SATURATED),
        ),
    ),
    Look(
        "dreamy",
        ("dreamy", "dream", "ethereal", "soft glow", "梦幻"),
        (
            fx("gblur", "sigma=2.5:steps=1", "a soft glow", *BLUR),
            fx("lutyuv", LIGHTER, "brighter tones", "light", "bright"),
            fx("hue", "s=0.9", "gentler colour", "pale"),
        ),
    ),
)
MILD = Look(
    "mild grade",
    (),
    (
        fx("lutyuv", contrast(1.15), "a little more contrast", *CONTRAST),
        fx("hue", "s=1.1", "a little more colour", *SATURATED),
    ),
    note="no known look was named",
)
GRAIN_TAGS = ("grain", "grainy", "noise", "noisy", "噪点", "颗粒")


@dataclass
class Plan:
    looks: list[str]
    removed: list[str]  # what the negative prompt left out, in words
    done: list[str] = field(default_factory=list)  # what is applied, in words
    pre: list[tuple[str, str]] = field(default_factory=list)
    post: list[tuple[str, str]] = field(default_factory=list)
    palette: str = ""
    strength: float = 1.0


def _mentions(text: str, words: Iterable[str]) -> bool:
    return any(word in text for word in words)


def spoken_list(items: Iterable[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    items = list(items)
    return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else "".join(items)


def choose_looks(prompt: str, negative: str) -> tuple[list[Look], list[str]]:
    text, avoid = prompt.lower(), negative.lower()
    looks = [
        look for look in LOOKS if _mentions(text, look.words) and not _mentions(avoid, look.words)
    ]
    removed = [
        look.name for look in LOOKS if _mentions(text, look.words) and _mentions(avoid, look.words)
    ]
    # "noir" also says black and white; keep one.
    if any(look.name == "noir" for look in looks):
        looks = [look for look in looks if look.name != "black and white"]
    return (looks or [MILD]), removed


def size_for(resolution: str, ratio: str, width: int, height: int) -> tuple[int, int]:
    """The real model's sizes for a ratio; with no ratio, the input's aspect at the same area."""
    if ratio:
        return SIZES[resolution][ratio]
    aspect = width / height
    for name, value in RATIOS.items():
        if abs(aspect / value - 1) < 0.01:  # 426x240 is 16:9 after even rounding
            return SIZES[resolution][name]
    area = SIZES[resolution]["16:9"][0] * SIZES[resolution]["16:9"][1]
    out_w = math.sqrt(area * aspect)
    return even(out_w), even(out_w / aspect)


def crop_for(ratio: str) -> list[tuple[str, str]]:
    if not ratio:
        return []
    target = RATIOS[ratio]
    # Centre crop of the largest target-ratio rectangle (even sides for 4:2:0).
    w = f"2*trunc(min(iw\\,ih*{target:.6f})/2)"
    h = f"2*trunc(min(ih\\,iw/{target:.6f})/2)"
    return [("crop", f"{w}:{h}")]


def plan(
    *,
    prompt: str,
    negative: str,
    seed: int,
    size: tuple[int, int],
    palette: Stats | None = None,
    source: Stats | None = None,
) -> Plan:
    looks, removed = choose_looks(prompt, negative)
    avoid = negative.lower()
    rng = random.Random(seed)  # noqa: S311 (reproducible looks, not secrets)
    strength = 0.9 + 0.2 * rng.random()  # the seed varies the strength a little
    result = Plan(
        looks=[look.name for look in looks],
        removed=[f"the {name} look" for name in removed],
        strength=strength,
    )
    for look in looks:
        kept = []
        for effect in look.effects:
            if effect.tags and _mentions(avoid, effect.tags):
                result.removed.append(f"{effect.says} ({look.name} look)")
                continue
            kept.append(effect.says)
            if effect.name == "pixelate":  # down with nearest neighbour, back up as blocks
                block = int(effect.args)
                small = (even(size[0] / block), even(size[1] / block))
                result.post.append(("scale", f"{small[0]}:{small[1]}:flags=neighbor"))
                result.post.append(("scale", f"{size[0]}:{size[1]}:flags=neighbor"))
                continue
            result.post.append((effect.name, _scaled(effect, strength)))
        if kept:
            note = f" ({look.note})" if look.note else ""
            result.done.append(f"{look.name} look with {spoken_list(kept)}{note}")
    if palette and source:
        result.post.append(("lutyuv", _transfer(source, palette)))
        result.palette = "colours moved toward the reference images"
    if not _mentions(avoid, GRAIN_TAGS):
        grain = 4 + rng.randrange(5)
        result.post.append(("noise", f"c0s={grain}:c0f=t+u:all_seed={seed % 2_147_483_647}"))
        result.done.append("fine film grain")
    else:
        result.removed.append("film grain")
    return result


def _scaled(effect: Effect, strength: float) -> str:
    """Vary saturation boosts with the seed's strength; other effects stay as designed."""
    if effect.name == "hue" and effect.args.startswith("s=") and effect.args != "s=0":
        base = float(effect.args[2:])
        return f"s={1 + (base - 1) * strength:.3f}"
    return effect.args


def _transfer(source: tuple[float, ...], palette: tuple[float, ...]) -> str:
    """Reinhard-style statistics transfer of luma and chroma toward the references (60 %)."""
    parts = []
    for index, channel in enumerate("yuv"):
        mean_s, sd_s = source[2 * index], max(source[2 * index + 1], 1.0)
        mean_r, sd_r = palette[2 * index], max(palette[2 * index + 1], 1.0)
        ratio = 1 + 0.6 * (sd_r / sd_s - 1)
        target = mean_s + 0.6 * (mean_r - mean_s)
        low, high = (16, 235) if channel == "y" else (16, 240)
        parts.append(f"{channel}='clip((val-{mean_s:.2f})*{ratio:.4f}+{target:.2f},{low},{high})'")
    return ":".join(parts)


Stats = tuple[float, float, float, float, float, float]  # mean and spread of Y, Cb, Cr


def _six(values: list[float]) -> Stats:
    y, y_spread, cb, cb_spread, cr, cr_spread = values
    return (y, y_spread, cb, cb_spread, cr, cr_spread)


def image_stats(paths: Iterable[Path]) -> Stats | None:
    """Mean and spread of Y, Cb, Cr over the reference images (studio-range YCbCr)."""
    sums = [0.0] * 6
    count = 0
    for path in paths:
        with Image.open(path) as image:
            image.thumbnail((256, 256))
            stat = ImageStat.Stat(image.convert("YCbCr"))
        for index in range(3):
            mean, sd = stat.mean[index], stat.stddev[index]
            if index == 0:  # full range to studio range, as in the video
                mean, sd = 16 + mean * 219 / 255, sd * 219 / 255
            else:
                mean, sd = 16 + mean * 224 / 255, sd * 224 / 255
            sums[2 * index] += mean
            sums[2 * index + 1] += sd
        count += 1
    if not count:
        return None
    return _six([value / count for value in sums])


def video_stats(path: Path, info: VideoInfo, start: float, length: float) -> Stats:
    """Mean and spread of Y, U, V over five pictures of the window."""
    values: list[list[int]] = [[], [], []]
    with open_video(path) as container:
        stream = container.streams.video[0]
        for k in range(5):
            at = start + length * (k + 0.5) / 5
            container.seek(int(at * 1_000_000))
            for frame in container.decode(stream):
                if frame.time is None or frame.time >= at - 0.05:
                    small = frame.reformat(width=64, height=36, format="yuv444p")
                    for index in range(3):
                        plane = small.planes[index]
                        data = bytes(plane)
                        rows = (
                            data[y * plane.line_size : y * plane.line_size + 64] for y in range(36)
                        )
                        values[index].extend(b"".join(rows))
                    break
    stats: list[float] = []
    for channel in values:
        mean = sum(channel) / max(len(channel), 1)
        var = sum((v - mean) ** 2 for v in channel) / max(len(channel), 1)
        stats += [mean, math.sqrt(var)]
    return _six(stats)


@dataclass(frozen=True)
class Rendered:
    encoded: Encoded
    looks: list[str]
    removed: list[str]
    description: str


def render(
    src: Path,
    dest: Path,
    *,
    info: VideoInfo,
    parameters: EditParameters,
    references: Iterable[Path] = (),
    progress: Callable[[float], None] | None = None,
) -> Rendered:
    duration, ratio, resolution = parameters.duration, parameters.ratio, parameters.resolution
    length = min(float(duration), info.duration) if duration else info.duration
    crop_aspect = RATIOS.get(ratio)
    base_w, base_h = float(info.width), float(info.height)
    if crop_aspect:
        base_w, base_h = (min(base_w, base_h * crop_aspect), min(base_h, base_w / crop_aspect))
    size = size_for(resolution, ratio, int(base_w), int(base_h))
    palette = image_stats(references)
    source = video_stats(src, info, 0.0, length) if palette else None
    chosen = plan(
        prompt=parameters.prompt,
        negative=parameters.negative_prompt,
        seed=parameters.seed or 0,
        size=size,
        palette=palette,
        source=source,
    )
    encoded = transcode(
        src,
        dest,
        info=info,
        size=size,
        length=length,
        keep_audio=True,  # "origin" keeps it; "auto" does too (the real model may make new sound)
        crf=20,
        pre=crop_for(ratio),
        post=chosen.post,
        fps=FPS,
        progress=progress,
    )
    return Rendered(encoded, chosen.looks, chosen.removed, "; ".join(chosen.done))


def extended_prompt(
    prompt: str,
    rendered: Rendered,
    *,
    resolution: str,
    ratio: str,
    seed: int,
    has_audio: bool,
    references: int,
) -> str:
    """A deterministic description of what the engine did, shown like a rewritten prompt.

    It is read by people, so it says what the picture got ("soft focus"), never which filter
    made it ("gblur").
    """
    e = rendered.encoded
    done = rendered.description or "no change to the picture"
    asked = prompt.strip()
    if asked and asked[-1] not in ".!?。！？":
        asked += "."
    bits = [asked, f"Rendered by the local engine (filters, not AI): {done}."]
    if rendered.removed:
        bits.append(f"Left out because of the negative prompt: {spoken_list(rendered.removed)}.")
    if references:
        bits.append(f"Colours moved toward {references} reference image{'s' * (references > 1)}.")
    shape = ratio or "the clip’s own shape"
    sound = "original sound kept" if has_audio else "no sound (the clip has none)"
    bits.append(
        f"{e.width}×{e.height} ({resolution.lower()}, {shape}), {e.duration:.1f} s at {FPS} "
        f"frames a second, {sound}; seed {seed} sets the grain and the strength."
    )
    return " ".join(bits)
