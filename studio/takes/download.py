"""Save a finished take's result (the `download_take` task), and try saving it again.

The result is fetched to a scratch file, probed as a real video, given a poster and stored once.
An expired link is fetched afresh from the task; a short or broken download, or our own trouble
(a full disk), is retried within DOWNLOAD_BUDGET attempts, every attempt counted.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from accounts.models import User
from studio.core.errors import Refused
from studio.media.probe import MediaRejected, probe
from studio.media.transcode import make_poster, make_thumbnail
from studio.models import Take, TakeState, Trigger
from studio.provenance.signing import sign_or_keep
from studio.provenance.state import credentials_fields
from studio.providers.base import Failure, Provider, ProviderError
from studio.providers.catalogue import get_provider
from studio.storage.files import scratch_dir, sha256_of, store_path
from studio.takes import common
from studio.takes.common import StepProblem, backoff, scaled, step_problem
from studio.takes.credentials import take_manifest_for
from studio.takes.leases import StepLease, holding_lease

log = logging.getLogger(__name__)
DOWNLOAD_BUDGET = 4


def take_download(take_id: int) -> None:
    take = Take.claim(take_id, TakeState.DOWNLOADING)
    if take is None:
        return
    with holding_lease(take) as lease:
        _download_held(take, lease)


def _download_held(take: Take, lease: StepLease) -> None:
    if take.download_attempts >= DOWNLOAD_BUDGET:
        # Every allowed attempt was claimed and none reported back: workers died while saving.
        return take_download_failed(
            take,
            ProviderError(
                f"Saving the result was interrupted {take.download_attempts} times (the worker "
                "stopped while saving it).",
                Failure.RETRY,
                detail="download budget used up by attempts that never reported back",
            ),
            own_words=True,
        )
    take.record(while_in=None, count=["download_attempts"])
    take.refresh_from_db()
    name = f"takes/{take.project.code}/{take.code}"
    try:
        provider = get_provider(take.provider)
        with scratch_dir() as tmp:
            result = tmp / "result.mp4"
            size = _fetch_fresh(take, provider, result, ask_again=take.download_attempts > 1)
            info = probe(result, max_seconds=120)
            make_poster(result, tmp / "poster.jpg", info)
            thumb_size = make_thumbnail(tmp / "poster.jpg", tmp / "poster-thumb.jpg")
            # Signed in scratch, then stored once: the signed copy, or the original with the
            # reason its credentials are missing (signing never loses a result). The hash and
            # size are those of the file stored and handed out.
            fetched_sha = sha256_of(result)
            signed = sign_or_keep(
                source=result, scratch=tmp, manifest=lambda: take_manifest_for(take)
            )
            sha = sha256_of(signed.path) if signed.signed else fetched_sha
            size = signed.path.stat().st_size
            if lease.lost:
                # Another worker took this download over (ours looked dead): it stores the file.
                log.warning("take %s: lease lost while downloading; leaving it", take.pk)
                return
            for field, path, stored_as in (
                (take.result, signed.path, result.name),
                (take.result_poster, tmp / "poster.jpg", "poster.jpg"),
                (take.result_thumb, tmp / "poster-thumb.jpg", "poster-thumb.jpg"),
            ):
                target = f"{name}/{stored_as}"
                if field.storage.exists(target):
                    field.storage.delete(target)  # a crashed earlier attempt; keep exactly one
                store_path(field, target, path)
    except MediaRejected as rejected:
        # Often a download cut short without a Content-Length: a fresh link may serve it whole.
        _remove_partial_result(take, name)
        return take_download_failed(
            take,
            ProviderError(
                f"The provider returned a file that is not a usable video: {rejected.message}",
                Failure.RETRY,
                detail=f"bad result: {rejected.message}",
            ),
            own_words=True,
        )
    except ProviderError as error:
        _remove_partial_result(take, name)
        return take_download_failed(take, error)
    except Exception as error:  # a full disk, an unwritable folder, a bug: counted, then ended
        _remove_partial_result(take, name)
        return take_download_failed(
            take, step_problem(error, then="choose “Try saving again” on the take's page")
        )
    if take.provider_task_id:
        provider.forget(take.provider_task_id)
    take.fire(
        Trigger.SAVED,
        "Saved",
        result=take.result.name,
        result_poster=take.result_poster.name,
        result_thumb=take.result_thumb.name,
        result_thumb_width=thumb_size[0],
        result_thumb_height=thumb_size[1],
        result_sha256=sha,
        result_fetched_sha256=fetched_sha,
        result_size=size,
        result_width=info.width,
        result_height=info.height,
        result_duration=info.duration,
        result_has_audio=info.has_audio,
        **credentials_fields(signed),
    )


def _remove_partial_result(take: Take, name: str) -> None:
    """A failed attempt leaves nothing in storage (the scratch folder removes itself)."""
    storage = take.result.storage
    try:
        _, files = storage.listdir(name)
        for file in files:
            if file.startswith(("result", "poster")):
                storage.delete(f"{name}/{file}")
    except FileNotFoundError:
        return  # nothing was stored
    except (OSError, NotImplementedError):
        log.warning("could not remove a partial result of take %s", take.pk, exc_info=True)


def _fetch_fresh(take: Take, provider: Provider, dest: Path, *, ask_again: bool = False) -> int:
    """Fetch the result; after a failed attempt, ask the task for a fresh link first."""
    url = take.result_url
    if ask_again and take.provider_task_id:
        url = _fresh_link(take, provider, fallback=url)
    try:
        return provider.fetch(url, dest, max_bytes=settings.MAX_RESULT_BYTES)
    except ProviderError as error:
        if error.failure != Failure.EXPIRED or not take.provider_task_id or url != take.result_url:
            raise
    # The link expired: ask the task again for a fresh one, once.
    url = _fresh_link(take, provider)
    return provider.fetch(url, dest, max_bytes=settings.MAX_RESULT_BYTES)


def _fresh_link(take: Take, provider: Provider, fallback: str = "") -> str:
    try:
        status = provider.status(take.provider_task_id or "")
    except ProviderError:
        if fallback:
            return fallback  # the status check is in trouble; the link we have may still work
        raise
    finally:
        take.record(while_in=None, count=["provider_calls", "status_checks"])
    if not status.result_urls:
        raise ProviderError(
            "The result link expired and the provider has no new one.", Failure.EXPIRED
        )
    take.record(while_in=None, result_url=status.result_urls[0])
    return status.result_urls[0]


def take_download_failed(take: Take, error: ProviderError, *, own_words: bool = False) -> None:
    detail = error.detail[:2000]
    if error.failure == Failure.EXPIRED:
        take.fire(
            Trigger.RESULT_EXPIRED,
            detail,
            reason="The provider's link to the result expired before Cutroom could save it. "
            "Run the take again.",
            last_error=detail,
        )
        return
    if error.failure == Failure.REJECTED or take.download_attempts >= DOWNLOAD_BUDGET:
        ours = isinstance(error, StepProblem)
        said = error.message if own_words or ours else None
        reason = said or f"Saving the result failed: {error.message}"
        if take.provider_task_id and error.failure != Failure.REJECTED:
            # The message of a StepProblem already says to try saving again once it is fixed.
            reason += " " + _kept_at_provider(take, offer=not ours)
        take.fire(Trigger.SAVE_FAILED, detail, reason=reason, last_error=detail)
        return
    after = timedelta(seconds=error.wait) if error.wait else backoff(take.download_attempts)
    take.release_lease(retry_at=timezone.now() + after, error=f"{error.message} [{detail}]")


def _kept_at_provider(take: Take, *, offer: bool = True) -> str:
    until = (
        f" until {timezone.localtime(take.result_expires_at):%d %b %Y, %H:%M}"
        if take.result_expires_at
        else " for a while (at least a day)"
    )
    if offer:
        return (
            f"The paid result stays at the provider{until}: choose “Try saving again” to fetch "
            "it without paying again."
        )
    return f"The paid result stays at the provider{until}, so nothing is lost."


def take_save_again(*, take: Take, author: User) -> None:
    """Download a paid result again after saving it failed (a full disk, a broken transfer)."""
    if not take.can_save_again or not take.fire(
        Trigger.TRY_SAVING_AGAIN,
        f"Saving again (asked by {author.display_name})",
        reason="",
        last_error="",
        download_attempts=0,
        finished_at=None,
        lease_until=None,
        next_check_at=timezone.now() + scaled(60),
    ):
        raise Refused("This take has no result waiting at the provider to save.")
    common.dispatch("download_take", take.pk)
    common.kick()
