"""Numbers typed (or forged) into forms: an absurd value gets a short message that says what is
allowed, never a 300-digit echo of itself, and never a server error."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from studio.models import Take
from tests.conftest import clip_row, post_take

pytestmark = pytest.mark.django_db
LONG_NUMBER = re.compile(r"\d{16,}")  # far more digits than any real value here


def shown(response) -> str:
    """The page as read, without the inputs' values (which keep what the person typed)."""
    return re.sub(r'value="[^"]*"', "", response.content.decode())


@pytest.fixture
def clip(project):
    """The forms never decode the clip: a placeholder row is enough."""
    return clip_row(project)


def field_error(response, field: str) -> str:
    html = response.content.decode()
    return html.split(f'id="id_{field}_error"', 1)[1].split("</ul>", 1)[0]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("start", "1e308", "Start between 0 and 10.0 s: the clip is 12.0 s long"),
        ("start", "1" + "0" * 400, "Start between 0 and 10.0 s"),
        ("start", "-1e308", "greater than or equal to 0"),
        ("start", "1e-300", "no more than 2 decimal places"),
        ("start", "Infinity", "Enter a number."),
        ("start", "NaN", "Enter a number."),
        ("length", "1e308", "less than or equal to 10"),
        ("length", "-1e308", "greater than or equal to 2"),
        ("seed", "1e308", "Enter a whole number."),
        ("seed", "9" * 4000, "less than or equal to 2147483647"),
        ("seed", "9" * 5000, "Enter a whole number."),
        ("duration", "1e308", "Select a valid choice: the part's own length, or 2 to 10 s."),
        ("duration", "9" * 5000, "Select a valid choice"),
    ],
)
def test_absurd_numbers_get_a_short_clear_message(as_bob, clip, field, value, message):
    response = post_take(as_bob, clip, **{field: value})
    assert response.status_code == 400
    error = field_error(response, field)
    assert message.replace("'", "&#x27;") in error
    assert not LONG_NUMBER.search(shown(response)), error
    assert not Take.objects.exists()


def test_a_start_the_clip_allows_is_still_accepted(as_bob, clip):
    assert post_take(as_bob, clip, start="8", length="4").status_code == 302
    assert Take.objects.get().start_ms == 8000


@pytest.mark.parametrize("field", ["resolution", "ratio", "audio_setting"])
def test_choices_do_not_echo_what_was_sent(as_bob, clip, field):
    response = post_take(as_bob, clip, **{field: "x" * 3000})
    assert "Select a valid choice from the list." in field_error(response, field)
    assert "x" * 100 not in shown(response)


@pytest.mark.parametrize("count", ["²", "9" * 5000, "1e308", "-3", "5", ""])
def test_variations_count_never_crashes(as_bob, clip, make_take, count):
    take = make_take()
    response = as_bob.post(reverse("take_variations", args=[take.code]), {"count": count})
    assert response.status_code == 302
    assert Take.objects.count() == 1


def test_share_expiry_does_not_echo_what_was_sent(as_bob, make_take):
    take = make_take()
    response = as_bob.post(reverse("share_create", args=[take.code]), {"expires": "9" * 3000})
    assert response.status_code == 400
    assert "Choose when the link expires: in 1, 7 or 30 days, or never." in shown(response)
    assert not LONG_NUMBER.search(shown(response))
