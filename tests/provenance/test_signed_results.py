"""Every file Cutroom stores for people is signed when it is stored, and read back with c2pa's
own reader: takes (local engine and Modellix), side-by-side exports, cut renders and what share
links hand out. A signing that fails (an unreadable key, a full disk) never loses the result:
the take succeeds with its result stored unsigned, its page says why, and "Sign again" (the
real task) fixes it."""

from __future__ import annotations

import hashlib
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils.html import escape

from studio import migrations, tasks
from studio.cuts import renders, services
from studio.cuts.models import CutRender, RenderState
from studio.media.cut import CutReport
from studio.models import MediaState, Reference, Take, TakeState
from studio.provenance import signing
from studio.provenance.credentials import Credentials
from studio.provenance.identity import identity_load
from studio.provenance.manifests import AI_MEDIA, manifest_read, manifest_sign_or_keep
from studio.provenance.state import BEFORE_CREDENTIALS, SIGNING_STALE, CredentialsState
from studio.review import shares
from studio.storage.files import local_copy
from studio.takes import create, gallery
from studio.takes.parameters import EditParameters
from studio.takes.trash import take_trash
from tests.conftest import clip_row, take_row
from tests.cuts.rows import stored_clip
from tests.full_disk import FILLER, FullDisks
from tests.pipeline import run
from tests.provenance.chains import make_chain
from tests.samples import make_image

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("queue")]


@pytest.fixture
def clip(project, samples):
    """A small ready clip (3 s, 160x120), stored without the upload's processing."""
    source = samples["tiny.mp4"]
    return stored_clip(project, source, sha256=hashlib.sha256(source.read_bytes()).hexdigest())


def take_of(clip: Any, author: Any, references: Any = None, **params: Any) -> Take:
    asked = EditParameters(**({"prompt": "Turn the scene into clay style"} | params))
    return create.take_create(
        project=clip.project,
        author=author,
        clip=clip,
        parameters=asked,
        start=0.0,
        length=2.5,
        references=references,
    )


def read_stored(field: Any) -> Credentials | None:
    with local_copy(field) as path:
        return manifest_read(path)


def unsigned(field: Any) -> bool:
    """The stored file has no manifest (read with a reader that needs no working key)."""
    reader = identity_load(cert="", key="", data_dir=Path(django_settings.DATA_DIR))
    with local_copy(field) as path:
        return manifest_read(path, identity=reader) is None


def stored_sha256(field: Any) -> str:
    with field.open("rb") as stored:
        return hashlib.sha256(stored.read()).hexdigest()


def reference(project: Any, name: str) -> Reference:
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = make_image(None)
    ref = Reference(
        project=project,
        original_name=name,
        state=MediaState.READY,
        format="png",
        sha256=hashlib.sha256(data).hexdigest(),
    )
    ref.image.save(f"r/{name}", SimpleUploadedFile(name, data), save=False)
    ref.save()
    return ref


@pytest.mark.django_db(transaction=True)  # the local engine renders as the worker does
def test_a_local_engine_take_is_stored_signed_and_reads_back(clip, bob, as_carol):
    take = take_of(clip, bob, prompt="Secret plan: clay", resolution="720P")
    run(take)
    assert take.state == TakeState.SUCCEEDED, take.reason
    read = read_stored(take.result)
    assert read is not None and (read.valid, read.trusted, read.own_signer) == (True, True, True)
    edited = read.actions[-1]
    assert edited.description == "Edited with Cutroom's local engine, not AI."
    assert (edited.model, edited.provider, edited.prompt) == ("", "Cutroom's local engine", "")
    assert read.made_with_ai is False and read.claim_generator == "Cutroom 0.1.0"
    assert [(i.title, i.relationship, i.sha256) for i in read.ingredients] == [
        (clip.original_name, "parentOf", clip.sha256)
    ]
    # The row holds the hash and size of the bytes stored and handed out: the signed file.
    assert take.result_sha256 == stored_sha256(take.result)
    assert take.result_size == take.result.size
    assert take.result.name.endswith("/result.mp4")
    assert (take.credentials, take.credentials_reason) == (CredentialsState.SIGNED, "")
    assert take.credentials_own is True and take.credentials_signer.startswith("Cutroom instance")
    page = as_carol.get(reverse("take_detail", args=[take.code])).content.decode()
    assert "Content credentials missing" not in page and "Sign again" not in page
    # One byte of the stored video changed: the credentials no longer hold.
    path = Path(take.result.path)
    data = bytearray(path.read_bytes())
    data[data.index(b"mdat") + 64] ^= 0x01
    path.write_bytes(bytes(data))
    tampered = read_stored(take.result)
    assert tampered is not None and (tampered.valid, tampered.trusted) == (False, False)


def test_a_modellix_take_names_model_provider_references_and_the_prompt_when_allowed(
    fake, clip, bob, project
):
    project.team.credentials_prompts = True
    project.team.save(update_fields=["credentials_prompts"])
    refs = [reference(project, "umbrella.png"), reference(project, "coat.png")]
    take = take_of(clip, bob, prompt="Rain on the pier", references=refs)
    run(take)
    assert take.state == TakeState.SUCCEEDED, take.reason
    read = read_stored(take.result)
    assert read is not None and read.valid and read.trusted
    edited = read.actions[-1]
    assert (edited.action, edited.digital_source_type) == ("c2pa.edited", AI_MEDIA)
    assert (edited.model, edited.provider) == ("wan2.7-videoedit", "Modellix wan2.7-videoedit")
    assert edited.prompt == "Rain on the pier"
    assert read.models == ("wan2.7-videoedit",)
    assert [(i.title, i.relationship, i.sha256) for i in read.ingredients] == [
        (clip.original_name, "parentOf", clip.sha256),
        ("umbrella.png", "inputTo", refs[0].sha256),
        ("coat.png", "inputTo", refs[1].sha256),
    ]
    assert take.result_sha256 == stored_sha256(take.result)
    # The provider's own bytes were not stored: the signed copy was.
    assert take.result_sha256 != hashlib.sha256(fake.tasks[take.provider_task_id].video).hexdigest()


def missing_key(settings: Any, tmp_path: Path) -> Path:
    """An operator's chain whose key file cannot be read (moved away after start)."""
    chain = make_chain()
    key = tmp_path / "key.pem"
    key.write_bytes(chain.key_pem)
    settings.C2PA_CERT = chain.chain_pem.decode()
    settings.C2PA_KEY = str(tmp_path / "moved-away.pem")
    return key


def full_disk_while_signing(settings: Any, full_disks: FullDisks, monkeypatch: Any) -> Path:
    """The scratch folder is a small disk of its own that fills up the moment signing starts
    (after the result was fetched and probed there): c2pa's writes meet ENOSPC."""
    disk = Path(settings.FILE_UPLOAD_TEMP_DIR) / "disk"
    if not full_disks.mount(disk, megabytes=16):
        pytest.skip("mounting a small disk needs root (the CI has it)")
    settings.FILE_UPLOAD_TEMP_DIR = disk
    sign = signing.manifest_sign_or_keep

    def filling(**kwargs: Any) -> Any:
        full_disks.fill(disk)
        return sign(**kwargs)

    monkeypatch.setattr(signing, "manifest_sign_or_keep", filling)
    return disk


@pytest.mark.parametrize("failure", ["unreadable key", "full disk"])
def test_a_failed_signing_keeps_the_result_and_sign_again_fixes_it(
    failure, fake, clip, bob, as_bob, as_carol, settings, tmp_path, monkeypatch, full_disks
):
    if failure == "unreadable key":
        key = missing_key(settings, tmp_path)
    else:
        disk = full_disk_while_signing(settings, full_disks, monkeypatch)
    take = take_of(clip, bob)
    run(take)
    assert take.state == TakeState.SUCCEEDED, take.reason
    assert take.result.storage.exists(take.result.name)
    assert unsigned(take.result)  # stored, unsigned
    assert take.result_sha256 == stored_sha256(take.result)
    assert take.credentials == CredentialsState.MISSING
    reason = take.credentials_reason
    if failure == "unreadable key":
        assert reason.startswith("STUDIO_C2PA_KEY: cannot read") and "moved-away.pem" in reason
    else:
        assert reason.startswith(f"The scratch folder ({disk}") and reason.endswith(
            "is full: free space there, then press “Sign again”."
        ), reason
    url = reverse("take_detail", args=[take.code])
    sign_url = reverse("take_sign_again", args=[take.code])
    seen = as_carol.get(url).content.decode()
    assert f"Content credentials missing:</strong> {escape(reason)}" in seen
    assert sign_url not in seen  # a viewer sees the notice only
    assert as_carol.post(sign_url).status_code == 403
    page = as_bob.get(url).content.decode()
    assert f'action="{sign_url}"' in page and ">Sign again</button>" in page
    # The cause is fixed; an editor asks to sign again.
    if failure == "unreadable key":
        settings.C2PA_KEY = str(key)
    else:
        monkeypatch.setattr(signing, "manifest_sign_or_keep", manifest_sign_or_keep)
        (disk / FILLER).unlink()
    old = take.result.name
    assert as_bob.post(sign_url).status_code == 302
    take.refresh_from_db()
    assert take.credentials == CredentialsState.SIGNING
    pending = as_bob.get(url).content.decode()
    assert "Signing the result again" in pending and ">Sign again</button>" not in pending
    asked = take.credentials_asked_at
    as_bob.post(sign_url)  # a second press while it runs changes nothing
    take.refresh_from_db()
    assert take.credentials_asked_at == asked
    tasks.sign_take(take.pk)
    tasks.sign_take(take.pk)  # delivered twice: done once
    take.refresh_from_db()
    assert take.credentials == CredentialsState.SIGNED and take.result.name != old
    assert not take.result.storage.exists(old)
    read = read_stored(take.result)
    assert read is not None and read.valid
    assert take.result_sha256 == stored_sha256(take.result)
    assert take.result_size == take.result.size
    done = as_bob.get(reverse("take_credentials_status", args=[take.code])).content.decode()
    assert "Signed again" in done and "Content credentials missing" not in done
    assert "data-pending" not in done


def test_a_take_trashed_while_signing_is_left_alone(make_take, bob):
    take = make_take(
        credentials=CredentialsState.MISSING, credentials_reason="Not signed (made before)."
    )
    from studio.takes import credentials

    credentials.take_sign_again_request(take=take, author=bob)
    take_trash(take, bob)
    name = take.result.name
    tasks.sign_take(take.pk)
    take.refresh_from_db()
    assert (take.credentials, take.result.name) == (CredentialsState.MISSING, name)
    assert sorted(Path(take.result.path).parent.iterdir()) == [Path(take.result.path)]


def test_the_side_by_side_export_and_a_share_download_are_signed(fake, clip, bob, monkeypatch):
    from studio.media import export

    # The comparison's encode is tests/media's; here a real video stands in for it, fast.
    monkeypatch.setattr(export, "side_by_side", lambda a, b, dest, **_: shutil.copyfile(b, dest))
    take = take_of(clip, bob)
    run(take)
    assert gallery.take_export_request(take=take)
    gallery.take_export(take_id=take.pk)
    take.refresh_from_db()
    assert (take.export_state, take.export_credentials_reason) == ("ready", "")
    read = read_stored(take.export_file)
    assert read is not None and read.valid
    assert read.actions[-1].model == "wan2.7-videoedit"
    link, token = shares.share_create(
        take=take, author=bob, days=7, allow_download=True, show_prompt=False
    )
    from django.test import Client

    answer = Client().get(f"/s/{token}/media/result?download=1")
    assert answer.status_code == 200 and "attachment" in answer["Content-Disposition"]
    body = b"".join(answer.streaming_content)
    assert hashlib.sha256(body).hexdigest() == take.result_sha256


@pytest.fixture
def cut_with_takes(project, bob, samples, monkeypatch):
    """A cut of two windows with finished takes (one Modellix's, one the local engine's),
    rendered by a stand-in that writes a real video (the render itself is tested elsewhere)."""
    clip = clip_row(project, duration=9.0, fps=25.0, sha256="d" * 64)
    cut = services.cut_create(clip=clip, author=bob, name="Clay version")
    for (start, end), provider in zip(((1.0, 3.0), (5.0, 7.0)), ("modellix", "local"), strict=True):
        window = services.window_add(cut=cut, start=start, end=end)
        sent = services.window_request(window)
        take = take_row(
            project,
            provider=provider,
            created_by=bob,
            clip=clip,
            start_ms=round(sent.start * 1000),
            length_ms=round(sent.length * 1000),
            window=window,
        )
        services.window_choose(window=window, take=take)

    def stand_in(source, splices, out, *, crossfade_frames, shot_cuts, progress):
        shutil.copyfile(samples["cut-25.mp4"], out)
        return CutReport(225, 9.0, 480, 270, 25.0, True, out.stat().st_size, (1.0, 1.0), ())

    monkeypatch.setattr(renders, "cut_render", stand_in)
    return cut


def test_a_cut_render_lists_each_windows_take_with_its_range(cut_with_takes, bob, as_bob):
    render = renders.cut_render_request(cut=cut_with_takes, author=bob)
    renders.cut_render_run(render.pk)
    render.refresh_from_db()
    assert render.state == RenderState.READY, render.reason
    assert render.credentials == CredentialsState.SIGNED and render.size == render.file.size
    read = read_stored(render.file)
    assert read is not None and read.valid
    takes = {t.window.start: t for t in Take.objects.filter(window__cut=cut_with_takes)}
    assert [(i.title, i.sha256, i.start, i.end) for i in read.ingredients] == [
        (cut_with_takes.clip.original_name, "d" * 64, None, None),
        (f"{takes[1.0].download_stem}.mp4", takes[1.0].result_sha256, 1.0, 3.0),
        (f"{takes[5.0].download_stem}.mp4", takes[5.0].result_sha256, 5.0, 7.0),
    ]
    placed = [a for a in read.actions if a.action == "c2pa.placed"]
    assert [(a.digital_source_type, a.model) for a in placed] == [
        (AI_MEDIA, "wan2.7-videoedit"),
        ("", ""),
    ]


def test_a_render_whose_signing_failed_is_ready_and_signed_again(
    cut_with_takes, bob, as_bob, as_carol, settings, tmp_path
):
    key = missing_key(settings, tmp_path)
    render = renders.cut_render_request(cut=cut_with_takes, author=bob)
    renders.cut_render_run(render.pk)
    render.refresh_from_db()
    assert render.state == RenderState.READY and render.credentials == CredentialsState.MISSING
    assert unsigned(render.file)
    args = [cut_with_takes.code, render.number]
    page = as_carol.get(reverse("render_detail", args=args)).content.decode()
    assert "Content credentials missing:</strong> STUDIO_C2PA_KEY: cannot read" in page
    assert ">Sign again</button>" not in page
    settings.C2PA_KEY = str(key)
    old = render.file.name
    assert as_bob.post(reverse("render_sign_again", args=args)).status_code == 302
    tasks.sign_render(render.pk)
    render.refresh_from_db()
    assert render.credentials == CredentialsState.SIGNED and render.file.name != old
    assert not render.file.storage.exists(old) and render.size == render.file.size
    read = read_stored(render.file)
    assert read is not None and read.valid and read.signer == "Test Newsroom Signer"
    assert render.credentials_own is False and render.credentials_signer == "Test Newsroom Signer"
    assert CutRender.objects.get(pk=render.pk).credentials_signed_at is not None


def test_the_migration_marks_results_made_before_content_credentials(make_take, project):
    """Its data step, run on today's models (the migration is found by name: the merger may
    renumber it)."""
    import importlib

    from django.apps import apps

    name = next(Path(migrations.__file__).parent.glob("*_content_credentials.py")).stem
    made = make_take()
    Take.objects.filter(pk=made.pk).update(export_state="ready")
    running = make_take(state=TakeState.RUNNING)
    importlib.import_module(f"studio.migrations.{name}").mark_unsigned(apps, None)
    made.refresh_from_db()
    running.refresh_from_db()
    assert (made.credentials, made.credentials_reason) == (
        CredentialsState.MISSING,
        BEFORE_CREDENTIALS,
    )
    assert made.export_credentials_reason == BEFORE_CREDENTIALS
    assert (running.credentials, running.credentials_reason) == ("", "")


def test_a_result_stored_in_a_bucket_is_signed_and_signed_again_there(
    s3, fake, project, samples, bob, as_bob, settings, make_take
):
    source = samples["tiny.mp4"]
    clip = stored_clip(project, source, sha256=hashlib.sha256(source.read_bytes()).hexdigest())
    take = take_of(clip, bob)
    run(take)
    assert take.state == TakeState.SUCCEEDED, take.reason
    assert f"studio/{take.result.name}" in set(s3.keys())
    signed = read_stored(take.result)
    assert signed is not None and signed.valid and take.credentials == CredentialsState.SIGNED
    assert take.result_sha256 == hashlib.sha256(s3.read(f"studio/{take.result.name}")).hexdigest()
    # A result stored before Cutroom signed anything: Sign again works in the bucket too.
    unsigned_take = make_take(
        clip=clip,
        result=source.read_bytes(),
        credentials=CredentialsState.MISSING,
        credentials_reason=BEFORE_CREDENTIALS,
    )
    assert unsigned(unsigned_take.result)
    old = unsigned_take.result.name
    as_bob.post(reverse("take_sign_again", args=[unsigned_take.code]))
    tasks.sign_take(unsigned_take.pk)
    unsigned_take.refresh_from_db()
    assert unsigned_take.credentials == CredentialsState.SIGNED
    assert f"studio/{old}" not in set(s3.keys())
    stored = s3.read(f"studio/{unsigned_take.result.name}")
    assert hashlib.sha256(stored).hexdigest() == unsigned_take.result_sha256
    read = read_stored(unsigned_take.result)
    assert read is not None and read.valid and read.own_signer
    assert files_under(Path(settings.FILE_UPLOAD_TEMP_DIR)) == []


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_a_sign_again_whose_worker_died_is_offered_again(make_take, as_bob):
    """A signing that never reported back (its worker died) holds the button only a while."""
    from django.utils import timezone

    long_ago = timezone.now() - SIGNING_STALE - timedelta(minutes=1)
    take = make_take(
        credentials=CredentialsState.SIGNING,
        credentials_reason=BEFORE_CREDENTIALS,
        credentials_asked_at=long_ago,
    )
    status = reverse("take_credentials_status", args=[take.code])
    page = as_bob.get(status).content.decode()
    assert ">Sign again</button>" in page and "data-pending" not in page
    assert as_bob.post(reverse("take_sign_again", args=[take.code])).status_code == 302
    take.refresh_from_db()
    assert take.credentials_signing and take.credentials_asked_at > long_ago
    page = as_bob.get(status).content.decode()
    assert "data-pending" in page and ">Sign again</button>" not in page
    tasks.sign_take(take.pk)
    take.refresh_from_db()
    assert take.credentials == CredentialsState.MISSING  # not a video: kept, with the reason
    assert take.credentials_reason.startswith("Signing result.mp4 failed")
