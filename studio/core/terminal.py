"""Text for an operator's terminal: names that come from a bucket or a row are shown escaped.

A bucket key or a stored name can hold any character, escape sequences included ("\\x1b[31m"
turns a terminal red; others retitle the window or rewrite what is on screen). Management
commands print such names through `escaped`, so the operator sees them, harmless, as text.
"""

from __future__ import annotations


def escaped(text: str) -> str:
    """`text` with every character a terminal would not simply print written as an escape.

    Control characters (ESC, newlines, tabs, DEL, C1) and invisible format characters (bidi
    overrides, zero-width spaces) become \\xNN, \\uNNNN or \\UNNNNNNNN; a backslash is doubled, so
    an escape shown is never mistaken for one in the name. Other letters, accents included,
    stay as they are.
    """
    return "".join(_shown(char) for char in text)


def _shown(char: str) -> str:
    if char == "\\":
        return "\\\\"
    if char.isprintable():
        return char
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"
