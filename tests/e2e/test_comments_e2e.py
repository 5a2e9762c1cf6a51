"""Comments at a frame as people use them on the take page: comment where the player is paused
with a drawing, find it again from its marker, reply and resolve, mention someone who sees it
in their inbox, see a teammate's comment arrive live, and export the markers for Resolve and
Premiere.

The clip runs at 25 fps, so a player or a server that assumed 1/30 s frames would land on the
wrong frame and fail here."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from studio.models import Comment
from studio.review import comments
from tests.e2e.conftest import COMPARE_READY, REVIEW_FPS, shot, sign_in, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FPS = REVIEW_FPS
READY = COMPARE_READY
TIMES = "() => [...document.querySelectorAll('[data-compare] video')].map(v => v.currentTime)"
PAUSED = "() => [...document.querySelectorAll('[data-compare] video')].every(v => v.paused)"
# Whether the drawing layer shows and has painted pixels.
DRAWN = """() => {
  const canvas = document.querySelector('.drawing-layer');
  if (!canvas || canvas.hidden || !canvas.width) return false;
  const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) return true;
  return false;
}"""
POLL = "/comments/?since="  # the comment panel's look for what changed
BOX = [{"kind": "rect", "colour": "yellow", "points": [[0.2, 0.2], [0.6, 0.7]]}]


@pytest.fixture
def take(review_take):
    return review_take


def open_take(page: Page, base: str, take: Any, query: str = "") -> None:
    page.goto(f"{base}/k/{take.code}/{query}")
    wait_until(page, READY)
    wait_until(page, "() => !!document.querySelector('[data-comments][data-ready]')")
    page.evaluate(
        "() => document.querySelectorAll('[data-compare] video').forEach(v => v.muted = true)"
    )


def at_frame(page: Page, frame: int) -> None:
    """Both videos show `frame` of the clip's 25 a second (within half a frame of its middle)."""
    wait_until(page, PAUSED)
    middle = (frame + 0.5) / FPS
    near = f"Math.abs(x - {middle}) < {0.5 / FPS}"
    wait_until(page, f"() => ({TIMES})().every(x => {near})")
    for time in page.evaluate(TIMES):
        assert int(time * FPS) == frame, (time, frame)


def body_focus(page: Page) -> None:
    page.evaluate("() => document.activeElement?.blur()")


def test_comment_at_a_frame_with_a_drawing_and_find_it_again(
    page: Page, live_server, bob, take, console_errors
):
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server.url, bob.email)
    open_take(page, live_server.url, take)

    # L jumps a second ahead, "." steps a frame: frame 25 + 5 = 30, at 25 fps.
    body_focus(page)
    page.keyboard.press("l")
    at_frame(page, 25)
    for _ in range(5):
        page.keyboard.press(".")
    at_frame(page, 30)

    # Point at the result, then C opens the box there, prefilled.
    page.locator(".compare-b video").hover()
    body_focus(page)
    page.keyboard.press("c")
    box = page.locator("[data-comment-form]")
    expect(box).to_be_visible()
    expect(box.get_by_label("Frame", exact=True)).to_have_value("30")
    expect(box.locator("[data-box-timecode]")).to_have_text("00:00:01:05")
    expect(box.get_by_label("After")).to_be_checked()
    expect(box.get_by_label("Comment", exact=True)).to_be_focused()

    # A yellow rectangle on the result's picture, drawn with the mouse.
    box.get_by_role("button", name="Rectangle").click()
    expect(box.get_by_role("button", name="Rectangle")).to_have_attribute("aria-pressed", "true")
    box.get_by_role("button", name="Yellow").click()
    canvas = page.locator(".drawing-layer")
    area = canvas.bounding_box()
    video = page.locator(".compare-b video").bounding_box()
    assert abs(area["x"] - video["x"]) < 2 and abs(area["width"] - video["width"]) < 2
    page.mouse.move(area["x"] + area["width"] * 0.25, area["y"] + area["height"] * 0.3)
    page.mouse.down()
    page.mouse.move(area["x"] + area["width"] * 0.5, area["y"] + area["height"] * 0.5, steps=4)
    page.mouse.move(area["x"] + area["width"] * 0.7, area["y"] + area["height"] * 0.8, steps=4)
    page.mouse.up()
    expect(box.get_by_role("button", name="Undo")).to_be_enabled()
    box.get_by_label("Comment", exact=True).fill("The boat is too dark <b>here</b>")
    box.get_by_role("button", name="Post comment").click()

    thread = page.locator(".thread").filter(has_text="The boat is too dark <b>here</b>")
    expect(thread).to_be_visible()
    expect(box).to_be_hidden()
    comment = Comment.objects.get()
    assert (comment.frame, comment.fps, comment.side) == (30, 25.0, "after")
    (shape,) = comment.drawing
    assert shape["kind"] == "rect" and shape["colour"] == "yellow"
    assert shape["points"][0] == pytest.approx([0.25, 0.3], abs=0.02)
    assert shape["points"][1] == pytest.approx([0.7, 0.8], abs=0.02)

    # After a reload, at the start again: its marker brings both sides back to frame 30.
    open_take(page, live_server.url, take)
    assert page.evaluate(TIMES) == [0, 0]
    assert not page.evaluate(DRAWN)
    marker = page.get_by_role("button", name="Comment by Bob at 00:00:01:05")
    marker.click()
    at_frame(page, 30)
    wait_until(page, DRAWN)
    expect(page.locator("#c-" + comment.code)).to_have_class(re.compile("is-current"))
    shot(page, "comment-marker-drawing")

    # Playing on takes the drawing away; the comment's time in the list brings it back.
    body_focus(page)
    page.keyboard.press("k")
    wait_until(page, f"() => !({DRAWN})()")
    page.keyboard.press("k")
    thread.get_by_role("link", name="00:00:01:05").click()
    at_frame(page, 30)
    wait_until(page, DRAWN)


def test_keys_work_across_the_page_but_not_while_typing(
    page: Page, live_server, bob, take, console_errors
):
    sign_in(page, live_server.url, bob.email)
    open_take(page, live_server.url, take)
    body_focus(page)
    page.keyboard.press("k")  # plays
    wait_until(page, f"() => !({PAUSED})()")
    page.keyboard.press("k")  # pauses
    wait_until(page, PAUSED)
    paused_at = int(page.evaluate(TIMES)[0] * FPS + 0.001)
    page.keyboard.press(".")
    page.keyboard.press(".")
    frame = paused_at + 2
    at_frame(page, frame)
    page.keyboard.press("l")
    at_frame(page, frame + FPS)
    page.keyboard.press("j")
    at_frame(page, frame)
    page.keyboard.press(",")
    at_frame(page, frame - 1)

    # In a text field, C and the player's keys are letters.
    title = page.get_by_label("Title")
    title.click()
    title.press_sequentially("clk,.")
    expect(title).to_have_value("clk,.")
    expect(page.locator("[data-comment-form]")).to_be_hidden()
    assert page.evaluate(PAUSED)
    at_frame(page, frame - 1)

    # The button opens the box too; Escape closes it and keeps what was written.
    page.get_by_role("button", name="Comment at this frame").first.click()
    box = page.locator("[data-comment-form]")
    expect(box.get_by_label("Frame", exact=True)).to_have_value(str(frame - 1))
    box.get_by_label("Comment", exact=True).fill("Half written")
    page.keyboard.press("Escape")
    expect(box).to_be_hidden()
    body_focus(page)
    page.keyboard.press("c")
    expect(box.get_by_label("Comment", exact=True)).to_have_value("Half written")
    expect(page.locator("[data-compare] .keys")).to_contain_text("J/L one second")
    expect(page.locator("[data-comment-keys]")).to_contain_text("C comment at this frame")


def test_a_reply_resolve_and_an_escaped_body(page: Page, live_server, bob, carol, take):
    first = comments.comment_create(
        take=take, author=carol, body="Sky is too flat", frame=50, side="before", drawing=BOX
    )
    comments.comment_create(
        take=take,
        author=carol,
        body='<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">',
        frame=75,
    )
    sign_in(page, live_server.url, bob.email)
    open_take(page, live_server.url, take)
    thread = page.locator(f"#c-{first.code}")
    expect(
        page.get_by_text('<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">')
    ).to_be_visible()
    assert page.evaluate("() => window.pwned") is None

    thread.locator("summary", has_text="Reply").click()
    thread.get_by_label("Reply to Carol").fill("Agreed, I will lift the sky")
    thread.get_by_role("button", name="Post reply").click()
    reply = thread.locator(".reply").filter(has_text="Agreed, I will lift the sky")
    expect(reply).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Reply posted.")).to_be_visible()
    assert first.replies.get().author == bob

    # Bob edits his reply.
    reply.locator("summary", has_text="Edit").click()
    reply.get_by_label("Your comment").fill("Agreed, I will lift the sky by a stop")
    reply.get_by_role("button", name="Save").click()
    expect(thread.locator(".reply")).to_contain_text("by a stop")
    expect(thread.locator(".reply")).to_contain_text("edited")

    thread.get_by_role("button", name="Resolve").click()
    expect(thread.locator(".badge-resolved")).to_have_text("Resolved by Bob")
    expect(
        page.get_by_role("button", name="Comment by Carol at 00:00:02:00, resolved")
    ).to_be_visible()
    page.get_by_role("link", name=re.compile(r"^Open \(1\)")).click()
    expect(thread).to_be_hidden()
    expect(
        page.get_by_role("button", name=re.compile("Comment by Carol at 00:00:02:00"))
    ).to_have_count(0)
    page.get_by_role("link", name=re.compile(r"^Resolved \(1\)")).click()
    expect(thread).to_be_visible()
    thread.get_by_role("button", name="Reopen").click()
    expect(thread.locator(".badge-resolved")).to_have_count(0)
    first.refresh_from_db()
    assert first.resolved_at is None
    shot(page, "comments-reply-resolve")


def test_a_viewer_comments_and_replies_but_does_not_resolve(
    page: Page, live_server, bob, carol, take
):
    comments.comment_create(take=take, author=bob, body="Warmer, please", frame=10)
    sign_in(page, live_server.url, carol.email)
    open_take(page, live_server.url, take)
    thread = page.locator(".thread").first
    expect(thread).to_contain_text("Warmer, please")
    expect(thread.get_by_role("button", name="Resolve")).to_have_count(0)
    expect(thread.get_by_role("button", name="Hide")).to_have_count(0)
    thread.locator("summary", has_text="Reply").click()
    thread.get_by_label("Reply to Bob").fill("Seconded")
    thread.get_by_role("button", name="Post reply").click()
    expect(thread.locator(".reply")).to_contain_text("Seconded")


def test_a_mention_reaches_the_inbox_and_comments_arrive_live(
    browser: Browser, page: Page, live_server, bob, carol, take
):
    # Carol has the take open and starts writing a comment of her own.
    other = browser.new_context()
    try:
        carols = other.new_page()
        sign_in(carols, live_server.url, carol.email)
        open_take(carols, live_server.url, take)
        carols.get_by_role("button", name="Comment at this frame").first.click()
        carols.get_by_label("Comment", exact=True).fill("Half a thought")

        # Bob mentions her in a comment at 00:00:00:10.
        sign_in(page, live_server.url, bob.email)
        open_take(page, live_server.url, take)
        body_focus(page)
        for _ in range(10):
            page.keyboard.press(".")
        at_frame(page, 10)
        page.keyboard.press("c")
        page.get_by_label("Comment", exact=True).fill("@Carol can you check the sky?")
        page.get_by_role("button", name="Post comment").click()
        expect(page.locator(".thread")).to_have_count(1)

        # It arrives on Carol's open page by itself, and her half-written comment stays.
        arrived = carols.locator(".thread").filter(has_text="@Carol can you check the sky?")
        expect(arrived).to_be_visible(timeout=15000)
        expect(carols.get_by_role("button", name="Comment by Bob at 00:00:00:10")).to_be_visible()
        expect(carols.get_by_label("Comment", exact=True)).to_have_value("Half a thought")
        expect(carols.get_by_label("Comment", exact=True)).to_be_focused()

        # Carol starts a reply in that thread while Bob resolves it: her page learns of it
        # but leaves the thread she is typing in alone, and takes the change in when she posts.
        polls: list[Any] = []
        carols.on("response", lambda r: polls.append(r) if POLL in r.url else None)
        arrived.locator("summary", has_text="Reply").click()
        arrived.get_by_label("Reply to Bob").fill("On it")
        page.locator(".thread").get_by_role("button", name="Resolve").click()
        expect(page.locator(".thread .badge-resolved")).to_be_visible()
        # Her page looks again every 4 s: wait for the look that brings the resolution.
        looks = 0
        while not any(r.ok and "Resolved by Bob" in r.text() for r in polls):
            assert looks < 4, "Carol's page never learnt of the resolution"
            carols.wait_for_event("response", lambda r: POLL in r.url, timeout=15000)
            looks += 1
        expect(arrived.get_by_label("Reply to Bob")).to_have_value("On it")
        expect(arrived.locator(".badge-resolved")).to_have_count(0)
        arrived.get_by_role("button", name="Post reply").click()
        expect(arrived.locator(".badge-resolved")).to_have_text("Resolved by Bob")
        expect(arrived.locator(".reply")).to_contain_text("On it")

        # The inbox in the top bar has one unread mention; it links to the comment's frame.
        carols.reload()
        inbox = carols.get_by_role("link", name=re.compile(r"^Inbox"))
        expect(inbox).to_have_text(re.compile(r"Inbox\s*1\s*unread"))
        inbox.click()
        expect(carols.get_by_role("heading", name="Inbox", level=1)).to_be_visible()
        item = carols.locator(".inbox-item").first
        expect(item).to_contain_text("can you check the sky?")
        expect(item.locator(".badge-new")).to_have_text("Unread")
        shot(carols, "inbox-mention")
        item.get_by_role("link", name=re.compile("at 00:00:00:10")).click()
        carols.wait_for_url(re.compile(rf"/k/{take.code}/"))
        wait_until(carols, READY)
        at_frame(carols, 10)
        expect(carols.locator(".thread.is-current")).to_contain_text("can you check the sky?")
        expect(carols.get_by_role("link", name=re.compile(r"^Inbox"))).to_have_text("Inbox")
    finally:
        other.close()


def test_exported_csv_and_edl_read_back_with_source_timecodes(
    page: Page, live_server, bob, take, tmp_path
):
    comments.comment_create(take=take, author=bob, body="Boat too dark", frame=30, drawing=BOX)
    comments.comment_create(take=take, author=bob, body="Sky, again", frame=60)
    sign_in(page, live_server.url, bob.email)
    open_take(page, live_server.url, take)
    exports = page.locator(".comment-exports")
    with page.expect_download() as got:
        exports.get_by_role("link", name="CSV").click()
    download = got.value
    assert download.suggested_filename == f"{take.download_stem}-comments.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    # The take edits the clip from 2 s: frame 30 at 25 fps is 2 + 1.2 s, frame 60 is 2 + 2.4 s.
    assert [(r["source timecode"], r["source seconds"], r["take frame"]) for r in rows] == [
        ("00:00:03:05", "3.200", "30"),
        ("00:00:04:10", "4.400", "60"),
    ]
    assert [r["comment"] for r in rows] == ["Boat too dark", "Sky, again"]

    with page.expect_download() as got:
        exports.get_by_role("link", name="EDL (DaVinci Resolve)").click()
    edl = Path(got.value.path()).read_bytes().decode().split("\r\n")  # CMX 3600: CR LF
    events = [line.split() for line in edl if re.match(r"^\d{3}  ", line)]
    assert [(e[4], e[5]) for e in events] == [
        ("00:00:03:05", "00:00:03:06"),
        ("00:00:04:10", "00:00:04:11"),
    ]
    assert " |C:ResolveColorYellow |M:Bob: Boat too dark |D:1" in edl

    with page.expect_download() as got:
        exports.get_by_role("link", name="XML (Premiere Pro)").click()
    xml = Path(got.value.path()).read_text(encoding="utf-8")
    assert "<in>80</in>" in xml and "<in>110</in>" in xml  # 3.2 s and 4.4 s at 25


def test_a_clip_page_takes_comments_at_its_frames(
    page: Page, live_server, bob, take, console_errors
):
    clip = take.clip
    sign_in(page, live_server.url, bob.email)
    page.goto(f"{live_server.url}/c/{clip.code}/")
    wait_until(page, "() => document.querySelector('#clip-video').readyState >= 2")
    wait_until(page, "() => !!document.querySelector('[data-comments][data-ready]')")
    body_focus(page)
    page.keyboard.press("l")
    page.keyboard.press("l")
    page.keyboard.press(",")
    wait_until(
        page,
        f"() => Math.abs(document.querySelector('#clip-video').currentTime - {49.5 / FPS}) < 0.02",
    )
    page.keyboard.press("c")
    page.get_by_label("Comment", exact=True).fill("Cut here")
    page.get_by_role("button", name="Post comment").click()
    expect(page.locator(".thread")).to_contain_text("Cut here")
    comment = Comment.objects.get()
    assert (comment.clip, comment.frame, comment.side) == (clip, 49, "before")
    page.evaluate("() => { const v = document.querySelector('#clip-video'); v.currentTime = 0; }")
    page.get_by_role("button", name="Comment by Bob at 00:00:01:24").click()
    wait_until(
        page,
        f"() => Math.abs(document.querySelector('#clip-video').currentTime - {49.5 / FPS}) < 0.02",
    )


@pytest.mark.parametrize(
    ("name", "width", "height"), [("1440", 1440, 900), ("1024", 1024, 768), ("390", 390, 844)]
)
def test_a_commented_take_at_every_width(
    page: Page, live_server, alice, bob, carol, take, name, width, height, console_errors
):
    comments.comment_create(
        take=take,
        author=carol,
        body="The horizon tilts here; can we straighten it?",
        frame=12,
        side="before",
    )
    boat = comments.comment_create(
        take=take,
        author=bob,
        body="@Alice the boat is too dark in this frame, lift the shadows",
        frame=40,
        drawing=[
            {"kind": "rect", "colour": "yellow", "points": [[0.15, 0.2], [0.55, 0.75]]},
            {"kind": "arrow", "colour": "red", "points": [[0.9, 0.1], [0.58, 0.42]]},
            {
                "kind": "pen",
                "colour": "green",
                "points": [[0.6, 0.8], [0.7, 0.85], [0.8, 0.8], [0.9, 0.9]],
            },
        ],
    )
    comments.comment_create(take=take, author=carol, body="Agreed", parent=boat)
    done = comments.comment_create(take=take, author=alice, body="Colour is fine now", frame=80)
    comments.comment_resolve(comment=done, user=alice, resolved=True)
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, live_server.url, bob.email)
    open_take(page, live_server.url, take)
    expect(page.locator(".comment-marker")).to_have_count(3)
    page.get_by_role("button", name="Comment by Bob at 00:00:01:15").click()
    at_frame(page, 40)
    wait_until(page, DRAWN)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.locator("[data-compare]").scroll_into_view_if_needed()
    shot(page, f"comments-take-{name}")
    # Commenting works at this width: the box opens under the player, with its tools.
    page.get_by_role("button", name="Comment at this frame").first.click()
    box = page.locator("[data-comment-form]")
    expect(box.get_by_role("button", name="Freehand")).to_be_visible()
    box.get_by_role("button", name="Freehand").click()
    area = page.locator(".drawing-layer").bounding_box()
    page.mouse.move(area["x"] + area["width"] * 0.3, area["y"] + area["height"] * 0.4)
    page.mouse.down()
    page.mouse.move(area["x"] + area["width"] * 0.6, area["y"] + area["height"] * 0.6, steps=5)
    page.mouse.up()
    box.get_by_label("Comment", exact=True).fill(f"Posted at {name} px")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, f"comments-box-{name}")
    box.get_by_role("button", name="Post comment").click()
    expect(page.locator(".thread").filter(has_text=f"Posted at {name} px")).to_be_visible()
    assert Comment.objects.get(body=f"Posted at {name} px").drawing[0]["kind"] == "pen"
