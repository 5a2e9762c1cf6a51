"""Bytes a browser loads for the pictures of one gallery page.

    .venv/bin/python bench/page_weight.py [--takes 24]

Fills a throw-away studio with one page of finished takes whose posters are made by the real
poster code from a textured 1080p frame, then renders the gallery through Django's test client
and fetches every <img> on it, first with the grid thumbnails and then as the page was before
thumbnails (full posters).

Anchor (issue 11): full-size posters were ~90 KB each, ~2 MB per gallery page.
"""

from __future__ import annotations

import argparse
import atexit
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def textured_frame(path: Path, seed: int) -> None:
    """A 1920x1080 picture with gradients and fine texture, which compresses like footage."""
    from PIL import Image, ImageChops, ImageFilter

    base = Image.linear_gradient("L").resize((1920, 1080)).convert("RGB")
    tint = Image.new("RGB", (1920, 1080), (40 + seed * 7 % 180, 90, 160 - seed * 5 % 120))
    noise = Image.effect_noise((1920, 1080), 48 + seed % 16).filter(ImageFilter.GaussianBlur(1.2))
    picture = ImageChops.add(ImageChops.multiply(base, tint), noise.convert("RGB"), 1.6)
    picture.save(path, format="PNG")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--takes", type=int, default=24)
    args = parser.parse_args()
    data = tempfile.mkdtemp(prefix="cutroom-weight-")
    atexit.register(shutil.rmtree, data, True)
    os.environ.update(
        STUDIO_DATA_DIR=data,
        DJANGO_SETTINGS_MODULE="studio.settings",
        STUDIO_LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    from django.conf import settings
    from django.core.files import File
    from django.core.management import call_command
    from django.test import Client
    from PIL import Image

    settings.STORAGES["staticfiles"] = {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
    }
    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    from accounts.services import account_create
    from studio.media.transcode import make_thumbnail
    from studio.models import Clip, MediaState, Take, TakeState
    from studio.projects.services import project_create

    user = account_create(email="bench@example.com", password="bench-password-123", name="Bench")
    team = user.current_team
    project = project_create(team=team, author=user, name="Weight")
    clip = Clip.objects.create(project=project, original_name="c.mp4", state=MediaState.READY)
    work = Path(data) / "work"
    work.mkdir()
    for n in range(args.takes):
        frame = work / f"{n}.png"
        textured_frame(frame, n)
        poster, thumb = work / f"{n}.jpg", work / f"{n}-thumb.jpg"
        with Image.open(frame) as image:  # as transcode.make_poster saves it
            image.thumbnail((960, 960), Image.Resampling.LANCZOS)
            image.convert("RGB").save(poster, format="JPEG", quality=85, optimize=True)
        width, height = make_thumbnail(poster, thumb)
        take = Take.objects.create(
            project=project,
            clip=clip,
            created_by=user,
            prompt=f"take {n}",
            seed=n,
            length_ms=4000,
            state=TakeState.SUCCEEDED,
            resolution="1080P",
            provider=settings.STUDIO_PROVIDER,  # as take_create sets it
        )
        with poster.open("rb") as p, thumb.open("rb") as t:
            take.result_poster.save(f"takes/{n}/poster.jpg", File(p), save=False)
            take.result_thumb.save(f"takes/{n}/poster-thumb.jpg", File(t), save=False)
        take.result_thumb_width, take.result_thumb_height = width, height
        take.save()

    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")

    def page_images() -> tuple[int, int]:
        html = client.get(f"/t/{team.code}/gallery/").content.decode()
        sources = re.findall(r'<img[^>]+src="([^"]+)"', html)
        media = [s for s in sources if s.startswith("/media/")]
        total = 0
        for src in media:
            response = client.get(src)
            total += len(b"".join(response.streaming_content))
        return len(media), total

    count, thumbs = page_images()
    # The page as it was before thumbnails: every card showed the full poster.
    Take.objects.update(result_thumb="", result_thumb_width=None, result_thumb_height=None)
    _, posters = page_images()
    print(f"gallery page, {count} cards")
    for label, total in (("full posters (before)", posters), ("thumbnails   (now)   ", thumbs)):
        print(f"  {label}: {total / 1024:8.0f} KB  ({total / count / 1024:.0f} KB each)")
    print(f"  saved: {100 * (1 - thumbs / posters):.0f} %   anchor: ~90 KB a poster, ~2 MB a page")


if __name__ == "__main__":
    main()
