from __future__ import annotations

from django.http import HttpRequest

from accounts.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """A request that went through @login_required, so `user` is a real User."""

    user: User  # type: ignore[assignment]
