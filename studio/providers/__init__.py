"""Edit providers behind one small interface (studio.providers.base.Provider)."""

from __future__ import annotations

from studio.providers.base import Provider


def get_provider(name: str) -> Provider:
    if name == "modellix":
        from studio.providers import modellix

        return modellix.from_settings()
    if name == "local":
        from studio.providers import local

        return local.LocalEngine()
    raise ValueError(f"unknown provider {name!r}")
