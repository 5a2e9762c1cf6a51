"""Provenance: how Cutroom says what made a video (disclosure, content credentials)."""
