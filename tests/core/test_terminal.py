"""Names printed for an operator reach the terminal as text, never as control sequences."""

from __future__ import annotations

from studio.core.terminal import escaped


def test_control_and_invisible_characters_are_escaped():
    assert escaped("clips/\x1b[31mred\x1b[0m.mp4") == "clips/\\x1b[31mred\\x1b[0m.mp4"
    assert escaped("a\nb\tc\x7f\x9b") == "a\\x0ab\\x09c\\x7f\\x9b"
    assert escaped("evil\u202egpj.mp4\u200b") == "evil\\u202egpj.mp4\\u200b"
    assert escaped("\U000e0041") == "\\U000e0041"  # a tag character: invisible


def test_ordinary_names_are_unchanged_and_backslashes_doubled():
    assert escaped("clips/p1/c1/source.mp4") == "clips/p1/c1/source.mp4"
    assert escaped("Café déjà vu 映画.mov") == "Café déjà vu 映画.mov"
    assert escaped("a\\x1b") == "a\\\\x1b"  # a literal backslash is not an escape
