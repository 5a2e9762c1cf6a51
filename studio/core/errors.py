"""The error every domain raises for a person's request that cannot be done."""

from __future__ import annotations


class Refused(Exception):
    """A person's request that cannot be done; the message says why, for that person."""
