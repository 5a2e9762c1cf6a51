"""Cuts: a clip's full-length edit, window by window (issue 22)."""
