"""One spelling for each e-mail address, so one person cannot hold two accounts whose addresses
look the same (docs/accounts.md "E-mail addresses").

An address is NFKC-normalised (full-width letters, digits and signs become their plain forms),
lower-cased, and its domain written in IDNA (ASCII, `xn--` for international names). Addresses
that would look like another one, or like nothing, are refused: a quoted part before the @,
invisible characters (zero-width spaces, direction marks: Unicode's format and control
characters), spaces, and letters outside ASCII before the @ (where a Cyrillic "а" passes for a
Latin "a"; no mail provider we know of hands such addresses out).

Imports nothing from the rest of Cutroom.
"""

from __future__ import annotations

import unicodedata

# Unicode categories that print as nothing or move text around: format (U+200B zero-width space,
# U+202E right-to-left override, U+FEFF), control, private use, unassigned, surrogates, and the
# separators (spaces, line and paragraph separators).
_UNSEEN = {"Cf", "Cc", "Co", "Cn", "Cs", "Zs", "Zl", "Zp"}
_RETYPE = " Type it again as your mail provider shows it. Nothing was saved."


class AddressRefused(ValueError):
    """An address Cutroom will not store; the message is for the person who typed it."""


def email_normalise(raw: str) -> str:
    """The one spelling of `raw`, or AddressRefused saying why there is none."""
    text = unicodedata.normalize("NFKC", raw.strip())
    for char in text:
        category = unicodedata.category(char)
        if char.isspace() or category in {"Zs", "Zl", "Zp"}:
            raise AddressRefused("This address contains a space." + _RETYPE)
        if category in _UNSEEN:
            raise AddressRefused(
                "This address contains an invisible character (such as a zero-width space or "
                f"a direction mark, U+{ord(char):04X})." + _RETYPE
            )
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise AddressRefused("Write a whole e-mail address, such as name@example.com.")
    if '"' in local or "\\" in local:
        raise AddressRefused(
            'Addresses with a quoted part (such as "name"@example.com) are not accepted here.'
            + _RETYPE
        )
    if not local.isascii():
        raise AddressRefused(
            "The part before the @ may use only letters and digits without accents, and "
            ". _ + - '." + _RETYPE
        )
    try:
        ascii_domain = domain.rstrip(".").encode("idna").decode("ascii")
    except UnicodeError:
        raise AddressRefused(
            "The part after the @ is not a domain name, such as example.com." + _RETYPE
        ) from None
    return f"{local.lower()}@{ascii_domain.lower()}"


def email_lookup(raw: str) -> list[str]:
    """The spellings to look an account up by, best first: the normalised one, then the
    address as typed (lower-cased), which finds an account stored before addresses were
    normalised."""
    typed = raw.strip().lower()
    try:
        canonical = email_normalise(raw)
    except AddressRefused:
        return [typed]
    return [canonical] if canonical == typed else [canonical, typed]
