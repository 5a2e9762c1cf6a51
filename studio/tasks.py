"""django-q2 entry points. Each loads a row by id and calls a service; each is safe to run twice."""

from __future__ import annotations

from accounts.models import User
from studio.cuts import credentials as render_credentials
from studio.cuts import renders
from studio.governance import budgets
from studio.library import clips, references, thumbnails
from studio.library import processing as media
from studio.models import Project
from studio.projects.trash import trash_sweep
from studio.providers.local import engine as local
from studio.review import inbox
from studio.storage import multipart
from studio.takes import credentials as take_credentials
from studio.takes import download, driver, gallery, labelled, submit


def process_clip(clip_id: int) -> None:
    clips.clip_process(clip_id=clip_id)


def process_reference(reference_id: int) -> None:
    references.reference_process(reference_id=reference_id)


def sweep() -> None:
    media.sweep()
    media.clean_temp()
    local.forget_old(older_than=media.TEMP_MAX_AGE)
    media.clean_empty_folders_hourly()
    multipart.uploads_abort_abandoned_hourly()
    driver.takes_sweep()
    thumbnails.thumbnails_backfill(limit=thumbnails.SWEEP_BATCH)
    references.references_clean_backfill(limit=references.CLEAN_BATCH)
    renders.renders_sweep()
    trash_sweep()


def render_cut(render_id: int) -> None:
    renders.cut_render_run(render_id)


def prepare_take(take_id: int) -> None:
    submit.take_submit(take_id)


def download_take(take_id: int) -> None:
    download.take_download(take_id)


def export_take(take_id: int) -> None:
    gallery.take_export(take_id=take_id)


def sign_take(take_id: int) -> None:
    """Sign a take's stored result again after signing it failed ("Sign again")."""
    take_credentials.take_sign_again(take_id)


def sign_render(render_id: int) -> None:
    """Sign a render's stored file again after signing it failed ("Sign again")."""
    render_credentials.render_sign_again(render_id)


def label_take(take_id: int) -> None:
    labelled.take_label(take_id=take_id)


def render_local(task_id: str) -> None:
    local.render_job(task_id)


def budget_alerts(project_id: int, author_id: int | None) -> None:
    """Mail who can raise the budgets a submission brought to 80 % or used up (once each)."""
    project = Project.objects.select_related("team").filter(pk=project_id).first()
    if project is not None:
        author = User.objects.filter(pk=author_id).first() if author_id else None
        budgets.budgets_alert(project=project, author=author)


def inbox_mail(keys: list[str]) -> None:
    """The instant mails of new inbox items (each claimed before it is sent)."""
    inbox.inbox_mail(keys)


def inbox_digests() -> None:
    """Hourly: the daily digests that are due (at most one a day per person)."""
    inbox.inbox_digests_send()
