"""How a take or a cut's render is disclosed to the people who see it: whether AI made it, in
words. The one place that decides them: the take and render pages, the share and review pages,
their `og:` tags and titles, and (later) the visible label on downloads all ask here."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from studio.providers.catalogue import About, about

LOCAL_WORDS = "Edited with Cutroom's local engine, not AI"


@dataclass(frozen=True)
class Disclosure:
    # True when AI made it, or may have (a provider Cutroom cannot name is never called not AI).
    is_ai: bool
    words: str  # the sentence shown near the player, e.g. "Made with AI (wan2.7-videoedit)"
    short: str  # for badges and titles: "Made with AI", "Not AI" or "May be AI"
    known: bool = True  # False: Cutroom cannot say for sure what made some of it


class MadeByProvider(Protocol):
    provider: str


class Rendered(Protocol):
    plan: Any
    cut: Any


def _model_words(engine: About) -> str:
    """The model as people know it, else the provider's label."""
    return engine.model or engine.label


def disclosure_for_take(take: MadeByProvider) -> Disclosure:
    return disclosure_for_provider(take.provider)


def disclosure_for_provider(provider: str) -> Disclosure:
    engine = about(provider)
    if not engine.known:
        named = f" ({provider})" if provider else ""
        return Disclosure(
            is_ai=True,
            words=f"Made with an unknown provider{named}, so it may be AI",
            short="May be AI",
            known=False,
        )
    if engine.is_ai:
        return Disclosure(True, f"Made with AI ({_model_words(engine)})", "Made with AI")
    return Disclosure(False, LOCAL_WORDS, "Not AI")


def disclosure_for_render(render: Rendered) -> Disclosure:
    """A render is made with AI when any window's take was made by a model; the words say how
    many of its windows. A window whose take has since been deleted for good cannot be told
    apart, so it is counted as one that may be AI."""
    planned = [w["take"] for w in render.plan.get("windows", [])]
    found = dict(render.cut.project.takes.filter(code__in=planned).values_list("code", "provider"))
    return disclosure_for_windows(
        [found.get(code) for code in planned], kept=len(render.plan.get("source_kept", []))
    )


def disclosure_for_windows(providers: Iterable[str | None], *, kept: int = 0) -> Disclosure:
    """`providers`: the provider of each edited window's take (None: the take is gone); `kept`:
    the windows left as the source."""
    engines = [about(p) if p is not None else None for p in providers]
    total = len(engines) + kept
    ai = [e for e in engines if e is not None and e.known and e.is_ai]
    local = sum(1 for e in engines if e is not None and e.known and not e.is_ai)
    unknown = len(engines) - len(ai) - local
    models = Counter(_model_words(e) for e in ai)
    parts: list[str] = []
    if ai:
        parts.append(f"{_of(len(ai), total)} made with AI ({', '.join(models)})")
    if unknown:
        parts.append(
            f"{_of(unknown, total, first=not parts)} made by a take or provider Cutroom can no "
            "longer name, so may be AI"
        )
    if ai or unknown:
        if local:
            parts.append(f"{local} edited with Cutroom's local engine, not AI")
        if kept:
            parts.append(f"{kept} kept from the source")
        short = "Made with AI" if ai else "May be AI"
        return Disclosure(True, "; ".join(parts), short, known=not unknown)
    rest = f"; {kept} kept from the source" if kept else ""
    return Disclosure(False, f"{LOCAL_WORDS} ({_of(local, total)}{rest})", "Not AI")


def _of(count: int, total: int, *, first: bool = True) -> str:
    """ "3 of 6 windows" (or "3" after the first part, whose total says it)."""
    if not first:
        return str(count)
    return f"{count} of {total} window{'s' if total != 1 else ''}"
