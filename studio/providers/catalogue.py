"""Edit providers behind one small interface (studio.providers.base.Provider)."""

from __future__ import annotations

from dataclasses import dataclass

from studio.providers.base import Failure, Provider, ProviderError

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
    """The provider a take names. When this Cutroom has none by that name, a ProviderError that
    says so, as for settings an administrator must fix: sending such a take fails it, and
    polling keeps asking until its deadline, instead of stopping the worker (the poller asks
    about every running take in one loop)."""
    if name == "modellix":
        from studio.providers import modellix

        return modellix.from_settings()
    try:
        kind = provider_class(name)
    except ValueError:
        known = ", ".join(NAMES)
        message = (
            f"This take was made with “{name}”, a provider this Cutroom no longer has (it has "
            f"{known}), so Cutroom cannot reach it. An administrator can bring it back."
            if name
            else "This take does not say which provider it was sent to (it was made before "
            "takes did, or outside Cutroom), so Cutroom cannot reach it."
        )
        raise ProviderError(
            message,
            Failure.REJECTED,
            detail=f"unknown provider {name!r}",
            config=True,
        ) from None
    return kind()


@dataclass(frozen=True)
class About:
    """What pages and services may know of a provider without calling it (or needing its key)."""

    name: str
    label: str
    bills: bool
    is_ai: bool
    can_cancel: bool
    known: bool = True  # False: a name this Cutroom has no provider for (see `about`)
    model: str = ""  # the AI model its takes are made with, e.g. "wan2.7-videoedit"
    watermark: bool = False  # it adds its own AI mark when a take asks (EditParameters.watermark)
    watermark_note: str = ""  # why it cannot, in words, for the take form


def about(name: str) -> About:
    """What is known of the provider `name`. A take may name one this Cutroom does not have: an
    empty name (rows made before the field was filled, or outside take_create) or a provider
    renamed or removed from STUDIO_PROVIDER's choices. Pages show such a take with the provider
    said to be unknown instead of failing."""
    try:
        kind = provider_class(name)
    except ValueError:
        # Nothing is promised about it: it may have billed (budgets keep what the take holds),
        # it cannot be cancelled, and is_ai stays True so that no page calls its work the local
        # engine's filters.
        label = f"Unknown provider ({name})" if name else "Unknown provider"
        return About(name, label, bills=True, is_ai=True, can_cancel=False, known=False)
    return About(
        kind.name,
        kind.label,
        kind.bills,
        kind.is_ai,
        kind.can_cancel,
        model=kind.model,
        watermark=kind.watermark,
        watermark_note=kind.watermark_note,
    )
