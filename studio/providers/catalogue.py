"""Edit providers behind one small interface (studio.providers.base.Provider)."""

from __future__ import annotations

from dataclasses import dataclass

from studio.providers.base import Provider

NAMES = ("local", "modellix")  # STUDIO_PROVIDER's choices


def provider_class(name: str) -> type[Provider]:
    if name == "modellix":
        from studio.providers.modellix import Modellix

        return Modellix
    if name == "local":
        from studio.providers.local.engine import LocalEngine

        return LocalEngine
    raise ValueError(f"unknown provider {name!r}")


def get_provider(name: str) -> Provider:
    if name == "modellix":
        from studio.providers import modellix

        return modellix.from_settings()
    return provider_class(name)()


@dataclass(frozen=True)
class About:
    """What pages and services may know of a provider without calling it (or needing its key)."""

    name: str
    label: str
    bills: bool
    is_ai: bool
    can_cancel: bool


def about(name: str) -> About:
    kind = provider_class(name)
    return About(kind.name, kind.label, kind.bills, kind.is_ai, kind.can_cancel)


def unbilled_providers() -> list[str]:
    """The names of the providers whose work costs nothing."""
    return [name for name in NAMES if not about(name).bills]
