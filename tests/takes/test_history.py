"""Gallery (filters, search, keyset pages, constant queries), favourites, shares, history."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from studio.models import (
    Activity,
    ShareLink,
    Take,
    TakeStar,
    TakeState,
)
from studio.review import shares
from studio.takes import gallery
from tests.conftest import ON_POSTGRESQL, clip_row, take_row, upload_clip

pytestmark = pytest.mark.django_db


@pytest.fixture
def clip(project):
    """The gallery never decodes the clip: a placeholder row is enough."""
    return clip_row(project, original_name="a.mp4", duration=5)


def make_takes(project, clip, user, count, **fields) -> list[Take]:
    """`count` takes of `clip` (succeeded unless `fields` say otherwise), a minute apart, the
    newest first."""
    now = timezone.now()
    return [
        take_row(
            project,
            **{"prompt": f"take number {n}"} | fields,
            clip=clip,
            created_by=user,
            seed=n,
            created_at=now - timedelta(minutes=n),
        )
        for n in range(count)
    ]


def test_gallery_pages_with_a_cursor(as_bob, bob, team, project, clip):
    made = make_takes(project, clip, bob, 60)
    url = reverse("team_gallery", args=[team.code])
    first = as_bob.get(url)
    codes = [t.code for t in first.context["takes"]]
    assert codes == [t.code for t in made[: gallery.PAGE_SIZE]]
    cursor = first.context["next_cursor"]
    second = as_bob.get(url, {"before": cursor})
    assert [t.code for t in second.context["takes"]] == [
        t.code for t in made[gallery.PAGE_SIZE : 2 * gallery.PAGE_SIZE]
    ]
    third = as_bob.get(url, {"before": second.context["next_cursor"]})
    assert len(third.context["takes"]) == 60 - 2 * gallery.PAGE_SIZE
    assert third.context["next_cursor"] == ""
    assert "Older takes" in first.content.decode() and "Older takes" not in third.content.decode()


def test_query_count_is_constant(as_bob, bob, team, project, clip):
    url = reverse("team_gallery", args=[team.code])
    make_takes(project, clip, bob, 2)
    with CaptureQueriesContext(connection) as few:
        as_bob.get(url)
    make_takes(project, clip, bob, 50)
    with CaptureQueriesContext(connection) as many:
        as_bob.get(url, {"q": "take", "state": "succeeded"})
    assert len(few) == len(many)


def test_filters_and_search(as_bob, bob, carol, team, project, clip):
    make_takes(project, clip, bob, 3, prompt="把场景变成粘土风格")
    make_takes(
        project, clip, carol, 2, prompt="Neon CITY", state=TakeState.FAILED, resolution="720P"
    )
    url = reverse("team_gallery", args=[team.code])

    def count(**params):
        return len(as_bob.get(url, params).context["takes"])

    assert count() == 5
    assert count(q="粘土") == 3
    assert count(q="neon city") == 2  # case-insensitive
    assert count(state="failed") == 2 and count(resolution="720P") == 2
    assert count(member="carol@example.com") == 2
    assert count(project=project.code) == 5 and count(project="nope") == 0
    assert count(since=timezone.localdate().isoformat()) == 5
    assert count(until="2000-01-01") == 0
    assert count(state="bogus") == 5  # unknown values are ignored, not errors


def copy_takes(take: Take, count: int) -> None:
    """`count` copies of `take` in one statement, each with its own code, prompt and time."""
    quote = connection.ops.quote_name
    columns = [f.column for f in Take._meta.concrete_fields if f.column != "id"]
    made = {
        "code": "'copy' || n",
        "prompt": "'take number ' || n",
        "created_at": "created_at - n * interval '1 second'",
        "provider_task_id": "NULL",  # each provider task is followed by one take only
    }
    select = ", ".join(made.get(column, quote(column)) for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO studio_take ({', '.join(map(quote, columns))}) "  # noqa: S608 (our names)
            f"SELECT {select} FROM studio_take, generate_series(1, %s) AS n WHERE id = %s",
            [count, take.pk],
        )


@pytest.mark.skipif(
    not ON_POSTGRESQL, reason="trigram indexes are PostgreSQL's (migration studio 0013)"
)
@pytest.mark.django_db(transaction=True)  # VACUUM cannot run inside the test's transaction
def test_search_uses_the_trigram_indexes_on_postgresql(bob, team, project, clip):
    """Among 20,000 takes, PostgreSQL answers the gallery's own search query from the trigram
    index of each searched column (their BitmapOr) instead of reading every take."""
    make_takes(project, clip, bob, 2, prompt="A lighthouse in the fog")
    copy_takes(make_takes(project, clip, bob, 1)[0], 20_000)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE studio_take")  # as autovacuum keeps a live table
    searches: list[tuple[str, tuple]] = []

    def capture(execute, sql, params, many, context):
        # The takes' search (the gallery also searches its renders, by cut and clip name).
        if "LIKE" in sql and '"studio_take"' in sql:
            searches.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        page, _ = gallery.gallery(
            team=team, user=bob, filters=gallery.GalleryFilters(q="LIGHTHOUSE")
        )
    assert len(page) == 2 and len(searches) == 1
    sql, params = searches[0]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "BitmapOr" in plan and "Seq Scan on studio_take" not in plan, plan
    for column in ("prompt", "title", "negative_prompt"):
        assert f"Bitmap Index Scan on studio_take_{column}_trgm" in plan, plan


@pytest.mark.skipif(
    not ON_POSTGRESQL, reason="trigram indexes are PostgreSQL's (migration studio 0016)"
)
def test_new_takes_go_straight_into_the_trigram_indexes(bob, project, clip):
    """No pending list for a search to read: new takes are in the trigram indexes at once, not
    parked until the next VACUUM (bench/scale.py: 51 ms against 5 ms over 100,000 takes)."""
    copy_takes(make_takes(project, clip, bob, 1, title="Hero shot")[0], 2_000)
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pgstattuple")
        for column in ("prompt", "title", "negative_prompt"):
            cursor.execute(
                "SELECT pending_tuples FROM pgstatginindex(%s::regclass)",
                [f"studio_take_{column}_trgm"],
            )
            assert cursor.fetchone()[0] == 0, column


def test_favourites_are_personal(as_bob, as_carol, bob, team, project, clip):
    take = make_takes(project, clip, bob, 1)[0]
    as_bob.post(reverse("take_star", args=[take.code]))
    url = reverse("team_gallery", args=[team.code])
    assert len(as_bob.get(url, {"starred": "1"}).context["takes"]) == 1
    assert len(as_carol.get(url, {"starred": "1"}).context["takes"]) == 0
    as_bob.post(reverse("take_star", args=[take.code]))  # toggles off
    assert len(as_bob.get(url, {"starred": "1"}).context["takes"]) == 0


def test_star_answers_json_when_asked_and_sets_the_wanted_state(
    as_bob, as_dave, bob, project, clip
):
    take = make_takes(project, clip, bob, 1)[0]
    url = reverse("take_star", args=[take.code])
    ask = {"HTTP_ACCEPT": "application/json"}
    response = as_bob.post(url, {"starred": "1"}, **ask)
    assert response.status_code == 200 and response.json() == {"starred": True}
    # Sent twice (a double click), the same wish keeps the star instead of flipping it back.
    assert as_bob.post(url, {"starred": "1"}, **ask).json() == {"starred": True}
    assert TakeStar.objects.filter(take=take, user=bob).count() == 1
    assert as_bob.post(url, {"starred": "0"}, **ask).json() == {"starred": False}
    assert not TakeStar.objects.filter(take=take, user=bob).exists()
    assert as_bob.post(url, **ask).json() == {"starred": True}  # no wish: toggles
    assert as_bob.get(url, **ask).status_code == 405
    assert as_dave.post(url, {"starred": "1"}, **ask).status_code == 404


def test_star_without_javascript_returns_to_the_card(as_bob, bob, team, project, clip):
    take = make_takes(project, clip, bob, 1)[0]
    gallery = reverse("team_gallery", args=[team.code]) + "?state=succeeded"
    page = as_bob.get(gallery).content.decode()
    assert f'id="take-{take.code}"' in page
    assert 'name="starred" value="1"' in page and 'aria-pressed="false"' in page
    response = as_bob.post(
        reverse("take_star", args=[take.code]), {"starred": "1", "next": gallery}
    )
    assert response.url == f"{gallery}#take-{take.code}"
    page = as_bob.get(gallery).content.decode()
    assert 'name="starred" value="0"' in page and 'aria-pressed="true"' in page


def test_title_and_notes(as_bob, as_carol, bob, project, clip):
    take = make_takes(project, clip, bob, 1)[0]
    as_bob.post(
        reverse("take_describe", args=[take.code]), {"title": " Hero shot ", "notes": "use"}
    )
    take.refresh_from_db()
    assert (take.title, take.notes) == ("Hero shot", "use")
    assert (
        as_carol.post(reverse("take_describe", args=[take.code]), {"title": "x"}).status_code == 403
    )


@pytest.fixture
def shared(bob, project, clip):
    take = make_takes(project, clip, bob, 1)[0]
    take.result.save("g/result.mp4", ContentFile(bytes(range(256)) * 8), save=False)
    take.result_poster.save("g/poster.jpg", ContentFile(b"jpg"), save=False)
    take.save()
    return take


def test_share_link_lifecycle(as_bob, client, bob, shared):
    response = as_bob.post(
        reverse("share_create", args=[shared.code]), {"expires": "7", "show_prompt": "on"}
    )
    link = ShareLink.objects.get()
    page = as_bob.get(response.url).content.decode()
    url = page.split('readonly value="', 1)[1].split('"', 1)[0]
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert len(token) >= 40 and link.token_hash == shares.token_digest(token)
    assert token not in str(ShareLink.objects.values_list())  # only the hash is kept
    again = as_bob.get(response.url).content.decode()  # shown again, no longer as new
    assert f'readonly value="{url}"' in again and "New share link" not in again
    public = client.get(f"/s/{token}/")
    assert public.status_code == 200
    assert (
        public["X-Robots-Tag"] == "noindex, nofollow" and public["Referrer-Policy"] == "same-origin"
    )
    body = public.content.decode()
    assert 'property="og:video"' in body and shared.prompt in body
    assert '<meta name="referrer" content="same-origin">' in body
    media = client.get(f"/s/{token}/media/result", HTTP_RANGE="bytes=100-199")
    assert media.status_code == 206 and media["Content-Range"] == "bytes 100-199/2048"
    # Download is off: ?download=1 gets the bytes a player needs, never an attachment.
    asked = client.get(f"/s/{token}/media/result?download=1")
    assert asked["Content-Disposition"].startswith("inline")
    assert "attachment" not in asked["Content-Disposition"]
    assert "Download the video" not in body
    poster = client.get(f"/s/{token}/media/poster")
    # Nothing may keep a copy that outlives a revocation.
    for response in (public, media, asked, poster):
        assert response["Cache-Control"] == "private, no-store"
        assert response["Referrer-Policy"] == "same-origin"
    link.refresh_from_db()
    assert link.views == 1
    as_bob.post(reverse("share_revoke", args=[link.code]))
    assert client.get(f"/s/{token}/").status_code == 404
    assert client.get(f"/s/{token}/media/result").status_code == 404
    assert client.get(f"/s/{token}/media/result", HTTP_RANGE="bytes=100-199").status_code == 404
    assert Activity.objects.filter(verb__in=["shared", "revoked"]).count() == 2


def test_unknown_expired_and_revoked_look_the_same(client, bob, shared):
    live, live_token = shares.share_create(
        take=shared, author=bob, days=1, allow_download=True, show_prompt=False
    )
    expired, expired_token = shares.share_create(
        take=shared, author=bob, days=1, allow_download=True, show_prompt=False
    )
    ShareLink.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    revoked, revoked_token = shares.share_create(
        take=shared, author=bob, days=None, allow_download=True, show_prompt=False
    )
    shares.share_revoke(link=revoked, actor=bob)
    bodies = set()
    for token in (expired_token, revoked_token, "x" * 43, "nope"):
        response = client.get(f"/s/{token}/")
        assert response.status_code == 404
        bodies.add(response.content)
    assert len(bodies) == 1
    ok = client.get(f"/s/{live_token}/")
    assert ok.status_code == 200 and shared.prompt not in ok.content.decode()
    download = client.get(f"/s/{live_token}/media/result?download=1")
    assert download["Content-Disposition"].startswith("attachment")
    assert download["Cache-Control"] == "private, no-store"


def test_password_protected_share(client, bob, shared):
    link, token = shares.share_create(
        take=shared,
        author=bob,
        days=7,
        allow_download=False,
        show_prompt=True,
        password="open sesame",
    )
    assert "This video is protected" in client.get(f"/s/{token}/").content.decode()
    assert client.get(f"/s/{token}/media/result").status_code == 404
    wrong = client.post(f"/s/{token}/", {"password": "nope"})
    assert wrong.status_code == 401 and "not right" in wrong.content.decode()
    assert client.post(f"/s/{token}/", {"password": "x" * 10_000}).status_code == 401
    client.post(f"/s/{token}/", {"password": "open sesame"})
    assert client.get(f"/s/{token}/media/result").status_code == 200


def unlock(token: str, *, secure: bool = False, **headers: str) -> int:
    """Post the right password as a browser would, with Django's CSRF checks on."""
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(f"/s/{token}/", secure=secure)
    csrf = page.content.decode().split('name="csrfmiddlewaretoken" value="', 1)[1].split('"')[0]
    return browser.post(
        f"/s/{token}/",
        {"password": "open sesame", "csrfmiddlewaretoken": csrf},
        secure=secure,
        headers=headers,
    ).status_code


def test_password_form_passes_the_csrf_origin_checks(bob, shared):
    """The headers a browser sends under the share page's same-origin referrer policy pass.

    Under "no-referrer" a browser sends `Origin: null` on a form POST; Django refuses it.
    """
    _, token = shares.share_create(
        take=shared,
        author=bob,
        days=7,
        allow_download=False,
        show_prompt=True,
        password="open sesame",
    )
    assert unlock(token, Origin="null") == 403  # what "no-referrer" made Chromium send
    assert unlock(token, Origin="http://testserver") == 302
    assert unlock(token, secure=True, Origin="https://testserver") == 302
    # Under HTTPS a browser that sends no Origin must send a same-origin Referer.
    assert unlock(token, secure=True, Referer=f"https://testserver/s/{token}/") == 302
    assert unlock(token, secure=True) == 403


def share_form(**fields: str) -> dict[str, str]:
    return {"expires": "7", "show_prompt": "on"} | fields


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("x", "Use at least 8 characters (this one has 1), or leave the password empty."),
        ("seven77", "Use at least 8 characters (this one has 7)"),
        ("p" * 201, "Use at most 200 characters (this one has 201)"),
    ],
)
def test_share_password_too_short_or_too_long_is_refused(as_bob, shared, password, message):
    response = as_bob.post(
        reverse("share_create", args=[shared.code]), share_form(password=password)
    )
    assert response.status_code == 400 and not ShareLink.objects.exists()
    page = response.content.decode()
    card = page.split('id="share-title"', 1)[1].split("</section>", 1)[0]
    error = card.split('id="share-password_error"', 1)[1].split("</ul>", 1)[0]
    assert message in error
    assert 'aria-describedby="share-password_helptext share-password_error"' in card
    field = card.split('id="share-password"', 1)[0].rsplit("<input", 1)[1]
    assert "value=" not in field  # a refused password is never sent back to the page
    assert 'aria-invalid="true"' in card
    assert "The share link was not created" in page


def test_share_password_at_the_limits_works_for_its_owner(as_bob, client, shared):
    for password in ("eight888", "密" * 200):
        as_bob.post(reverse("share_create", args=[shared.code]), share_form(password=password))
        page = as_bob.get(reverse("take_detail", args=[shared.code])).content.decode()
        token = page.split('readonly value="', 1)[1].split('"', 1)[0].rstrip("/").rsplit("/")[-1]
        assert client.get(f"/s/{token}/media/result").status_code == 404
        assert client.post(f"/s/{token}/", {"password": password[:-1]}).status_code == 401
        assert client.post(f"/s/{token}/", {"password": password}).status_code == 302
        assert client.get(f"/s/{token}/media/result").status_code == 200
    with pytest.raises(ValueError):
        shares.share_create(
            take=shared, author=None, days=1, allow_download=False, show_prompt=False, password="x"
        )


def test_share_form_says_what_download_off_can_and_cannot_stop(as_bob, shared):
    page = as_bob.get(reverse("take_detail", args=[shared.code])).content.decode()
    card = page.split('id="share-title"', 1)[1].split("</section>", 1)[0]
    assert 'aria-describedby="share-allow_download_helptext"' in card
    help_text = card.split('id="share-allow_download_helptext">', 1)[1].split("</p>", 1)[0]
    assert "refuses download requests" in help_text
    assert "cannot stop someone who can watch the video from saving or recording" in help_text


class HeadTags(HTMLParser):
    """The <meta> tags of a page: {"og:title": "...", "twitter:card": "...", ...}."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: dict[str, str] = {}
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        key = found.get("property") or found.get("name")
        if tag == "meta" and key:
            assert key not in self.tags, f"{key} appears twice"
            self.tags[key] = found.get("content") or ""


@pytest.fixture
def previewed(shared, tmp_path):
    from PIL import Image

    Image.new("RGB", (960, 540), (20, 90, 160)).save(tmp_path / "poster.jpg")
    shared.result_poster.save(
        "g/poster-real.jpg", ContentFile((tmp_path / "poster.jpg").read_bytes())
    )
    shared.title = "Harbour at dusk"
    shared.result_width, shared.result_height = 1920, 1080
    shared.save()
    return shared


def test_link_previews_show_poster_title_and_team(client, bob, team, previewed):
    _, token = shares.share_create(
        take=previewed, author=bob, days=7, allow_download=False, show_prompt=True
    )
    tags = HeadTags(client.get(f"/s/{token}/").content.decode()).tags
    url = f"http://testserver/s/{token}/"
    assert tags["og:url"] == url and tags["og:site_name"] == "Cutroom"
    # The take is the local engine's: the title and description say so first.
    assert tags["og:title"] == tags["twitter:title"] == "Harbour at dusk · Not AI"
    assert tags["og:description"].startswith(
        "Edited with Cutroom's local engine, not AI. A before-and-after video edit shared by "
        "Northwind Films on Cutroom."
    )
    assert tags["og:description"].endswith(f"Prompt: {previewed.prompt}")
    assert tags["og:image"] == tags["twitter:image"] == f"{url}media/poster"
    assert (tags["og:image:width"], tags["og:image:height"]) == ("960", "540")
    assert tags["og:image:type"] == "image/jpeg" and tags["og:image:alt"]
    assert tags["og:video"] == f"{url}media/result" and tags["og:video:type"] == "video/mp4"
    assert (tags["og:video:width"], tags["og:video:height"]) == ("1920", "1080")
    assert "og:video:secure_url" not in tags  # plain http here
    assert tags["twitter:card"] == "summary_large_image" and "twitter:player" not in tags
    assert client.get(tags["og:image"].removeprefix("http://testserver")).status_code == 200

    secure = HeadTags(client.get(f"/s/{token}/", secure=True).content.decode()).tags
    assert secure["og:video:secure_url"] == f"https://testserver/s/{token}/media/result"
    assert secure["og:image:secure_url"] == f"https://testserver/s/{token}/media/poster"
    assert secure["og:url"] == f"https://testserver/s/{token}/"


def test_link_previews_leave_the_prompt_out_when_it_is_hidden(client, bob, previewed):
    previewed.title = ""
    previewed.save(update_fields=["title"])
    _, token = shares.share_create(
        take=previewed, author=bob, days=7, allow_download=False, show_prompt=False
    )
    page = client.get(f"/s/{token}/").content.decode()
    tags = HeadTags(page).tags
    assert (
        tags["og:title"] == "A video edit · Not AI" and "Northwind Films" in tags["og:description"]
    )
    assert previewed.prompt not in page


def test_password_page_preview_reveals_nothing_it_protects(client, bob, previewed):
    _, token = shares.share_create(
        take=previewed,
        author=bob,
        days=7,
        allow_download=False,
        show_prompt=True,
        password="open sesame",
    )
    page = client.get(f"/s/{token}/").content.decode()
    tags = HeadTags(page).tags
    assert tags["og:url"] == f"http://testserver/s/{token}/"
    assert tags["og:site_name"] == "Cutroom" and tags["og:title"] == "Protected video"
    assert tags["twitter:card"] == "summary" and "password" in tags["og:description"]
    assert not {"og:image", "og:video", "twitter:image"} & tags.keys()
    for secret in ("Harbour at dusk", previewed.prompt, "Northwind Films", "media/"):
        assert secret not in page


def test_share_pages_are_rate_limited(client, settings):
    # More in tests/review/test_rate_limits.py: the window's end, proxies, the password lock.
    statuses = [client.get(f"/s/unknown-{n}/").status_code for n in range(65)]
    assert statuses[:60] == [404] * 60 and statuses[-1] == 429


def test_viewer_cannot_share(as_carol, shared):
    assert (
        as_carol.post(reverse("share_create", args=[shared.code]), {"expires": "7"}).status_code
        == 403
    )
    page = as_carol.get(reverse("take_detail", args=[shared.code])).content.decode()
    assert "Create share link" not in page and "Run again" not in page


def test_activity_feed_and_figures(as_bob, bob, team, project, clip):
    from studio.takes import create
    from studio.takes.parameters import EditParameters

    first = EditParameters(prompt="first")
    create.take_create(project=project, author=bob, clip=clip, parameters=first, length=3)
    page = as_bob.get(reverse("team_activity", args=[team.code]))
    text = page.content.decode()
    assert "submitted a take: first" in text
    [figures] = page.context["figures"]  # members with takes this month
    assert figures.name == "Bob" and figures.tally.takes == 1
    assert figures.tally.seconds == 3.0
    assert (
        len(
            as_bob.get(
                reverse("team_activity", args=[team.code]), {"member": "alice@example.com"}
            ).context["feed"]
        )
        == 0
    )


def card_of(page: str, take: Take) -> str:
    return page.split(f'data-take="{take.code}"', 1)[1].split("</li>", 1)[0]


def test_money_is_shown_as_people_read_it(as_bob, bob, team, project, clip):
    estimated, tiny, charged, local = make_takes(project, clip, bob, 4)
    paid = {"provider": "modellix", "created_at": timezone.now()}
    Take.objects.filter(pk=estimated.pk).update(
        estimate_usd=Decimal("0.4233"), reserved_usd=Decimal("0.4233"), **paid
    )
    Take.objects.filter(pk=tiny.pk).update(
        estimate_usd=Decimal("1.2699"), charged_usd=Decimal("0.0040"), **paid
    )
    Take.objects.filter(pk=charged.pk).update(
        estimate_usd=Decimal("1.2699"), charged_usd=Decimal("1.2"), **paid
    )
    Take.objects.filter(pk=local.pk).update(estimate_usd=Decimal("0.35"))
    gallery = as_bob.get(reverse("team_gallery", args=[team.code])).content.decode()
    assert "about 0.42 USD (estimate)" in card_of(gallery, estimated)
    assert "&lt; 0.01 USD" in card_of(gallery, tiny)  # escaped "<"
    assert "estimate" not in card_of(gallery, tiny)
    assert "1.20 USD" in card_of(gallery, charged)
    assert "free (local engine)" in card_of(gallery, local)
    assert "~" not in gallery and "0.4233" not in gallery
    activity = as_bob.get(reverse("team_activity", args=[team.code]))
    # Charged 0.004 + 1.2, still estimated 0.4233; the local engine's take is free.
    [bob_figures] = activity.context["figures"]
    assert bob_figures.tally.charged == Decimal("1.204")
    assert bob_figures.tally.estimated == Decimal("0.4233")
    row = activity.content.decode().split("<td>Bob", 1)[1].split("</tr>", 1)[0]
    assert "<td>1.20 USD</td><td>about 0.42 USD (estimate)</td>" in row


def test_side_by_side_export(as_bob, project, samples, make_take, tmp_path):
    from pathlib import Path

    from studio.library import clips
    from studio.media.probe import probe
    from studio.providers.local import render as engine
    from studio.takes.parameters import EditParameters

    clip = upload_clip(as_bob, project, samples["long.mp4"])
    item = clips.input_clip_prepare(clip=clip, start=0, length=2)
    out = tmp_path / "r.mp4"
    source = Path(item.file.path)
    noir = EditParameters(prompt="noir", resolution="720P")
    engine.render(source, out, info=probe(source, max_seconds=60), parameters=noir)
    take = make_take(
        clip=clip, prompt="noir", length_ms=2000, input_clip=item, result=out.read_bytes()
    )
    response = as_bob.post(reverse("take_export", args=[take.code]))
    assert response.status_code == 302
    take.refresh_from_db()
    assert take.export_state == "working"
    gallery.take_export(take_id=take.pk)
    take.refresh_from_db()
    assert take.export_state == "ready"
    info = probe(Path(take.export_file.path), max_seconds=60)
    assert info.height == 720 + 44 and info.width > 1280 + 400
    assert info.duration == pytest.approx(2.0, abs=0.1)
    assert info.audio_codec == "aac"  # the edit's sound comes along
    page = as_bob.get(reverse("take_detail", args=[take.code])).content.decode()
    assert "Download side-by-side" in page
