"""The sound of a cut: the source's track, with the take's own sound laid in for chosen windows.

Everything is 48 kHz stereo float (fltp) in AAC-sized frames; a sample's index counts from the
start of the source's sound, which plays at source time `origin`. Only the short fades at a
window's ends are computed sample by sample; the rest of a window is copied in whole.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from av.audio.frame import AudioFrame
from av.filter import Graph

from studio.media.transcode import AAC_FRAME, AUDIO_RATE, _chain, _drain, open_video

FADE_SECONDS = 0.05  # the audio crossfade at each end of a window that uses the take's sound
STEREO_FLOAT = f"sample_fmts=fltp:sample_rates={AUDIO_RATE}:channel_layouts=stereo"


def sound_graph(stream: Any, *, tempo: float = 1.0, trim: bool = True) -> Graph:
    """48 kHz stereo float in AAC-sized frames from `stream`'s decoded frames; `tempo` speeds
    the sound up without changing its pitch (a retimed take's sound keeps to its pictures)."""
    graph = Graph()
    filters = [("atrim", "start=0"), ("asetpts", "PTS-STARTPTS")] if trim else []
    filters += [("aresample", str(AUDIO_RATE)), ("aformat", STEREO_FLOAT)]
    if abs(tempo - 1.0) > 1e-4:
        filters.append(("atempo", f"{tempo:.6f}"))
    filters.append(("asetnsamples", f"n={AAC_FRAME}:p=0"))
    _chain(graph, graph.add_abuffer(template=stream), filters, "abuffersink")
    return graph


def channels(frame: AudioFrame) -> tuple[array, array]:
    left, right = array("f"), array("f")
    left.frombytes(bytes(frame.planes[0])[: frame.samples * 4])
    right.frombytes(bytes(frame.planes[1])[: frame.samples * 4])
    return left, right


def stereo_frame(left: array, right: array) -> AudioFrame:
    frame = AudioFrame(format="fltp", layout="stereo", samples=len(left))
    frame.sample_rate = AUDIO_RATE
    for plane, data in zip(frame.planes, (left, right), strict=True):
        raw = data.tobytes()
        plane.update(raw.ljust(plane.buffer_size, b"\0"))
    return frame


class TakeSound:
    """Reads a take's sound forward by sample index, decoding only as far as asked."""

    def __init__(self, path: Path, tempo: float) -> None:
        self._stack = ExitStack()
        container = self._stack.enter_context(open_video(path))
        stream = container.streams.audio[0]
        self._frames = self._pull(container.decode(stream), sound_graph(stream, tempo=tempo))
        self._left, self._right = array("f"), array("f")
        self._base = 0  # the sample index of the buffer's first sample
        self._ended = False

    @staticmethod
    def _pull(frames: Iterator[Any], graph: Graph) -> Iterator[AudioFrame]:
        for frame in frames:
            graph.push(frame)
            yield from _drain(graph)
        graph.push(None)
        yield from _drain(graph)

    def read(self, at: int, count: int) -> tuple[array, array]:
        """Samples [at, at + count) of the take's sound; fewer where the sound has ended."""
        if at > self._base:
            drop = min(at - self._base, len(self._left))
            del self._left[:drop], self._right[:drop]
            self._base += drop
        while not self._ended and self._base + len(self._left) < at + count:
            frame = next(self._frames, None)
            if frame is None:
                self._ended = True
                break
            left, right = channels(frame)
            self._left.extend(left)
            self._right.extend(right)
        start = max(at - self._base, 0)
        stop = max(min(at + count - self._base, len(self._left)), start)
        return self._left[start:stop], self._right[start:stop]

    def close(self) -> None:
        self._stack.close()


@dataclass
class SoundWindow:
    """Where a take's sound replaces the source's: samples [first, last) of the output, and
    the take's sample index for `first` (its handle before the window)."""

    first: int
    last: int
    take_at: int
    path: Path
    tempo: float
    reader: TakeSound | None = None


class SoundMixer:
    """Lays the take's sound over each chunk of the source's that meets a take-sound window."""

    def __init__(self, windows: list[SoundWindow]) -> None:
        self.windows = windows
        self.fade = round(FADE_SECONDS * AUDIO_RATE)

    def mix(self, frame: AudioFrame, at: int) -> AudioFrame:
        end = at + frame.samples
        touched = [w for w in self.windows if w.first < end and w.last > at]
        for window in self.windows:
            if window.reader is not None and window.last <= at:
                window.reader.close()
                window.reader = None
        if not touched:
            return frame
        left, right = channels(frame)
        for window in touched:
            self._lay(window, left, right, at)
        return stereo_frame(left, right)

    def _lay(self, window: SoundWindow, left: array, right: array, at: int) -> None:
        if window.reader is None:
            window.reader = TakeSound(window.path, window.tempo)
        first = max(window.first, at)
        last = min(window.last, at + len(left))
        take_left, take_right = window.reader.read(
            window.take_at + first - window.first, last - first
        )
        fade = min(self.fade, (window.last - window.first) // 2)
        count = len(take_left)
        # Whole stretches inside the fades are copied in one slice; only the fades mix.
        solid_from = max(first, window.first + fade) - first
        solid_to = min(first + count, window.last - fade) - first
        if solid_to > solid_from:
            left[first - at + solid_from : first - at + solid_to] = take_left[solid_from:solid_to]
            right[first - at + solid_from : first - at + solid_to] = take_right[solid_from:solid_to]
        fades = [range(count)]
        if solid_to > solid_from:
            fades = [range(0, max(solid_from, 0)), range(max(solid_to, 0), count)]
        for offset in (offset for part in fades for offset in part):
            position = first + offset
            weight = min(
                (position - window.first + 0.5) / fade, (window.last - position - 0.5) / fade, 1.0
            )
            i = position - at
            left[i] = left[i] * (1 - weight) + take_left[offset] * weight
            right[i] = right[i] * (1 - weight) + take_right[offset] * weight

    def close(self) -> None:
        for window in self.windows:
            if window.reader is not None:
                window.reader.close()
                window.reader = None
