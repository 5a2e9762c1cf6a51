"""Which picture each output frame shows (source, take or a blend of both), and the joins'
scores (see cut.py for the rules)."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import av
from av.video.frame import VideoFrame

from studio.media.cut_pictures import blend, jpeg, luma_step
from studio.media.cut_plan import Window
from studio.media.transcode import _chain, _rotate_filters, open_video

SEAM_FLAG_LEVEL = 15.0  # a luma step above this (0-255) at a join is flagged for review


@dataclass(frozen=True)
class Seam:
    window: int  # index into the splices
    edge: str  # "in" or "out"
    at: float  # the edge on the source's timeline (s)
    score: float  # the largest luma step at the join, 0-255
    source_step: float  # the source's own step between the same two instants
    flagged: bool  # the join steps by more than the source does there, by SEAM_FLAG_LEVEL
    before: bytes  # JPEG of the output frame before the step
    after: bytes  # JPEG of the output frame after it


class TakeVideo:
    """The take's pictures by take time, turned and scaled to the source's coded frame."""

    def __init__(self, window: Window, size: tuple[int, int], rotation: int) -> None:
        self._stack = ExitStack()
        container = self._stack.enter_context(open_video(window.splice.take))
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        self._frames = container.decode(stream)
        self._graph = av.filter.Graph()
        filters = [
            *_rotate_filters(window.take.rotation),
            *_rotate_filters((360 - rotation) % 360),
            ("scale", f"{size[0]}:{size[1]}:flags=bicubic"),
            *([window.look] if window.look else []),
            ("format", "yuv420p"),
        ]
        _chain(self._graph, self._graph.add_buffer(template=stream), filters, "buffersink")
        self._origin: float | None = None
        self._current: Any = None
        self._next: Any = self._advance()
        self._shown: tuple[Any, VideoFrame] | None = None

    def _advance(self) -> Any:
        frame = next(self._frames, None)
        while frame is not None and frame.time is None:
            frame = next(self._frames, None)
        if frame is not None and self._origin is None:
            self._origin = frame.time
        return frame

    def at(self, when: float) -> VideoFrame | None:
        """The picture on screen at take time `when` (None before the first frame)."""
        while self._next is not None and self._next.time - (self._origin or 0) <= when + 1e-4:
            self._current, self._next = self._next, self._advance()
        if self._current is None:
            return None
        if self._shown is None or self._shown[0] is not self._current:
            self._graph.push(self._current)
            picture = self._graph.pull()
            assert isinstance(picture, VideoFrame)  # noqa: S101 - a video graph gives pictures
            self._shown = (self._current, picture)
        return self._shown[1]

    def close(self) -> None:
        self._stack.close()


@dataclass
class Join:
    window: int
    edge: str
    at: float
    score: float = -1.0
    source_step: float = 0.0
    pair: tuple[VideoFrame, VideoFrame] | None = None
    pictures: tuple[bytes, bytes] = (b"", b"")


@dataclass
class Frames:
    """Picks each output picture and keeps the joins' scores."""

    windows: list[Window]
    size: tuple[int, int]
    rotation: int
    step: float
    joins: list[Join] = field(default_factory=list)
    _next: int = 0
    _take: TakeVideo | None = None
    # The window before's take, kept open while this window's first frames blend from it.
    _prior: tuple[Window, TakeVideo] | None = None
    _previous: tuple[VideoFrame, VideoFrame, tuple[int, str] | None] | None = None
    _open: dict[tuple[int, str], Join] = field(default_factory=dict)

    def picture(self, frame: VideoFrame, t: float) -> VideoFrame:
        if frame.format.name != "yuv420p":
            frame = frame.reformat(format="yuv420p")
        role, picture = self._choose(frame, t)
        self._score(picture, frame, role)
        return picture

    def _region(self, window: Window) -> tuple[float, float]:
        quarter = self.step / 4
        return (
            window.splice.start - window.fade_in * self.step - quarter,
            window.splice.end + window.fade_out * self.step - quarter,
        )

    def _choose(self, frame: VideoFrame, t: float) -> tuple[tuple[int, str] | None, VideoFrame]:
        while self._next < len(self.windows) and t >= self._region(self.windows[self._next])[1]:
            self._leave()
        if self._next >= len(self.windows):
            return None, frame
        window = self.windows[self._next]
        if t < self._region(window)[0]:
            return None, frame
        if self._take is None:
            self._take = TakeVideo(window, self.size, self.rotation)
        splice, quarter = window.splice, self.step / 4
        take = self._take.at((t - splice.start + splice.take_offset) * window.stretch)
        if t < splice.start - quarter:
            kind = "in"
            weight = 1 - (splice.start - t) / ((window.fade_in + 1) * self.step)
        elif t < splice.end - quarter:
            kind, weight = "take", 1.0
        else:
            kind = "out"
            weight = 1 - (t - splice.end + self.step) / ((window.fade_out + 1) * self.step)
        if take is None:
            return None, frame
        under = frame
        if kind == "take" and self._prior is not None:
            made = round((t - splice.start) / self.step)  # frames of this window so far
            before, video = self._prior
            shown = None
            if made < window.cross:
                at = (t - before.splice.start + before.splice.take_offset) * before.stretch
                shown = video.at(at)
            if shown is None:
                self._close_prior()
            else:
                kind, under, weight = "cross", shown, (made + 1) / (window.cross + 1)
        if weight >= 1.0:
            return (window.index, kind), take
        return (window.index, kind), blend(under, take, min(max(weight, 0.0), 1.0))

    def _leave(self) -> None:
        self._close_prior()
        following = self.windows[self._next + 1] if self._next + 1 < len(self.windows) else None
        if self._take is not None:
            if following is not None and following.cross:
                self._prior = (self.windows[self._next], self._take)
            else:
                self._take.close()
            self._take = None
        self._next += 1

    def _close_prior(self) -> None:
        if self._prior is not None:
            self._prior[1].close()
            self._prior = None

    def _score(self, picture: VideoFrame, source: VideoFrame, role: tuple[int, str] | None) -> None:
        previous = self._previous
        self._previous = (picture, source, role)
        if previous is None:
            return
        before, source_before, was = previous
        for key in self._edges(was, role):
            join = self._open.get(key)
            if join is None:
                splice = self.windows_by_index[key[0]].splice
                at = splice.start if key[1] == "in" else splice.end
                join = self._open[key] = Join(key[0], key[1], at)
                self.joins.append(join)
            score = luma_step(before, picture)
            if score > join.score:
                join.score, join.pair = score, (before, picture)
                join.source_step = luma_step(source_before, source)
        for key, join in list(self._open.items()):
            if key not in self._edges(was, role):
                self._close(join)
                del self._open[key]

    @property
    def windows_by_index(self) -> dict[int, Window]:
        return {window.index: window for window in self.windows}

    @staticmethod
    def _edges(was: tuple[int, str] | None, now: tuple[int, str] | None) -> list[tuple[int, str]]:
        """The joins that the step from a frame of role `was` to one of role `now` belongs to."""
        edges = []
        if now is not None and (now[1] in ("in", "cross") or (now[1] == "take" and was != now)):
            edges.append((now[0], "in"))
        leaving = now is None or now[0] != was[0] or now[1] == "out" if was else False
        if was is not None and was[1] in ("take", "out") and leaving:
            edges.append((was[0], "out"))
        return edges

    def _close(self, join: Join) -> None:
        if join.pair is not None:
            join.pictures = (jpeg(join.pair[0], self.rotation), jpeg(join.pair[1], self.rotation))
            join.pair = None

    def finish(self) -> tuple[Seam, ...]:
        for join in self._open.values():
            self._close(join)
        self._open.clear()
        self._close_prior()
        if self._take is not None:
            self._take.close()
            self._take = None
        # Where two windows meet, the out of one and the in of the next are one join: its
        # worst step stands for it.
        joins: dict[float, Join] = {}
        for join in sorted(self.joins, key=lambda join: (join.at, join.edge == "in")):
            key = round(join.at, 6)
            if key not in joins or join.score > joins[key].score:
                joins[key] = join
        return tuple(
            Seam(
                window=join.window,
                edge=join.edge,
                at=join.at,
                score=round(join.score, 2),
                source_step=round(join.source_step, 2),
                flagged=join.score - join.source_step > SEAM_FLAG_LEVEL,
                before=join.pictures[0],
                after=join.pictures[1],
            )
            for join in joins.values()
        )
