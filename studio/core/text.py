"""Text as people wrote it, without what would break a file or a screen that shows it."""

from __future__ import annotations

import re

# Control characters (C0 but tab, line feed and carriage return; DEL; C1), lone surrogates,
# and U+FFFE/U+FFFF: XML 1.0 cannot hold C0, surrogates or U+FFFE/U+FFFF at all (an export
# with one does not open), UTF-8 cannot encode a lone surrogate, and ESC or CSI (U+009B)
# starts a terminal escape sequence. Nobody types them on purpose.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def printable(text: str) -> str:
    """`text` with the characters above removed; everything else, newlines included, kept."""
    return _UNPRINTABLE.sub("", text)
