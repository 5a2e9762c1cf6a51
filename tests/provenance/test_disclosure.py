"""The visible disclosure (issue 24): what every page says about whether AI made a take or a
cut's render, decided in one place (studio.provenance.disclosure), and where the pages say it."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from studio.models import Cut, CutRender, RenderState, TakeState
from studio.provenance.disclosure import disclosure_for_render, disclosure_for_take
from studio.review import shares
from tests.conftest import clip_row

pytestmark = pytest.mark.django_db


def test_a_models_take_is_made_with_ai_and_names_the_model(make_take):
    said = disclosure_for_take(make_take(provider="modellix"))
    assert said.is_ai and said.known
    assert said.words == "Made with AI (wan2.7-videoedit)"
    assert said.short == "Made with AI"


def test_the_local_engines_take_is_not_ai(make_take):
    said = make_take(provider="local").disclosure
    assert not said.is_ai
    assert said.words == "Edited with Cutroom's local engine, not AI"
    assert said.short == "Not AI"


@pytest.mark.parametrize(
    ("provider", "named"),
    [("dashscope", "unknown provider (dashscope), so"), ("", "unknown provider, so")],
)
def test_an_unknown_provider_is_said_to_be_unknown_and_maybe_ai(make_take, provider, named):
    said = make_take(provider=provider).disclosure
    # Never "not AI": Cutroom cannot say what the provider was.
    assert said.is_ai and not said.known
    assert said.short == "May be AI"
    assert said.words == f"Made with an {named} it may be AI"
    assert "not AI" not in said.words


def _render(project, takes, *, kept=(), gone=()) -> CutRender:
    cut = Cut.objects.create(project=project, clip=clip_row(project), name="Mixed")
    codes = [t.code for t in takes] + list(gone)
    windows = [{"take": code, "start": n * 3.0, "end": n * 3.0 + 2} for n, code in enumerate(codes)]
    plan = {"crossfade_frames": 6, "windows": windows, "source_kept": list(kept)}
    return CutRender.objects.create(cut=cut, number=1, state=RenderState.READY, plan=plan)


def test_a_render_with_any_models_window_is_made_with_ai_and_counts_them(project, make_take):
    takes = [make_take(provider="modellix") for _ in range(3)] + [make_take(provider="local")]
    said = _render(project, takes, kept=[5, 6]).disclosure
    assert said.is_ai and said.known and said.short == "Made with AI"
    assert said.words == (
        "3 of 6 windows made with AI (wan2.7-videoedit); 1 edited with Cutroom's local engine, "
        "not AI; 2 kept from the source"
    )


def test_a_render_of_local_windows_only_is_not_ai(project, make_take):
    said = disclosure_for_render(_render(project, [make_take(), make_take()], kept=[3]))
    assert not said.is_ai and said.short == "Not AI"
    assert said.words == (
        "Edited with Cutroom's local engine, not AI (2 of 3 windows; 1 kept from the source)"
    )


def test_a_render_whose_take_is_gone_or_unknown_may_be_ai(project, make_take):
    takes = [make_take(provider="local"), make_take(provider="retired")]
    said = _render(project, takes, gone=["gone0000"]).disclosure
    assert said.is_ai and not said.known and said.short == "May be AI"
    assert said.words.startswith("2 of 3 windows made by a take or provider Cutroom can no")
    assert "1 edited with Cutroom's local engine, not AI" in said.words
    # A model's window beside an unknown one: made with AI, and the unknown one still said.
    both = _render(project, [make_take(provider="modellix")], gone=["gone0001"]).disclosure
    assert both.short == "Made with AI" and not both.known
    assert both.words.startswith("1 of 2 windows made with AI (wan2.7-videoedit); 1 made by")


def _meta(html: str, key: str) -> str:
    found = re.search(rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)"', html)
    assert found, key
    return unescape(found[1])


def _title(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html, re.S)
    assert found
    return unescape(found[1])


def test_the_share_and_review_pages_say_it_in_words_title_and_og_tags(make_take, bob):
    take = make_take(provider="modellix", title="Clay harbour")
    _, token = shares.share_create(
        take=take, author=bob, days=7, allow_download=False, show_prompt=False, allow_comments=True
    )
    html = unescape(Client().get(reverse("share_page", args=[token])).content.decode())
    assert 'id="disclosure"' in html
    assert "Made with AI (wan2.7-videoedit)" in html
    assert _title(html) == "Clay harbour · Made with AI · Cutroom"
    assert _meta(html, "og:title") == "Clay harbour · Made with AI"
    assert _meta(html, "twitter:title") == "Clay harbour · Made with AI"
    assert _meta(html, "og:description").startswith("Made with AI (wan2.7-videoedit). ")


def test_a_local_takes_share_page_says_not_ai_in_the_same_words(make_take, bob):
    take = make_take(provider="local", title="Cool winter")
    _, token = shares.share_create(
        take=take, author=bob, days=7, allow_download=False, show_prompt=False
    )
    html = unescape(Client().get(reverse("share_page", args=[token])).content.decode())
    assert "Edited with Cutroom's local engine, not AI" in html
    assert _meta(html, "og:title") == "Cool winter · Not AI"
    assert "Edited with Cutroom's local engine, not AI." in _meta(html, "og:description")


def test_the_take_page_says_it_near_the_player(make_take, as_carol):
    take = make_take(provider="modellix")
    html = unescape(as_carol.get(reverse("take_detail", args=[take.code])).content.decode())
    line = re.search(r'<p class="disclosure[^"]*" id="disclosure">(.*?)</p>', html, re.S)
    assert line and "Made with AI (wan2.7-videoedit)" in line[1]
    # Only a finished take has something to disclose; a queued one says what it will use.
    queued = make_take(provider="modellix", state=TakeState.QUEUED)
    html = as_carol.get(reverse("take_detail", args=[queued.code])).content.decode()
    assert 'id="disclosure"' not in html


def test_the_render_page_and_its_shared_page_count_the_windows(project, make_take, as_carol, bob):
    made = _render(project, [make_take(provider="modellix"), make_take(provider="local")])
    made.file.save(f"cuts/{project.code}/render.mp4", ContentFile(b"a render"))
    page = reverse("render_detail", args=[made.cut.code, made.number])
    html = unescape(as_carol.get(page).content.decode())
    assert "1 of 2 windows made with AI (wan2.7-videoedit)" in html
    _, token = shares.share_create(
        render=made, author=bob, days=7, allow_download=False, show_prompt=False
    )
    shared = unescape(Client().get(reverse("share_page", args=[token])).content.decode())
    assert "1 of 2 windows made with AI (wan2.7-videoedit)" in shared
    assert _meta(shared, "og:title") == "Mixed v1 · Made with AI"
