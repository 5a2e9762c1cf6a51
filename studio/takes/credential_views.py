"""A take's content credentials on its page: "Sign again" when they are missing, and the part
of the page that says how signing stands (polled while the worker signs)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.http import AuthenticatedHttpRequest
from studio.core import errors
from studio.takes import credentials
from studio.takes.access import take_for


@login_required
@require_POST
def take_sign_again(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    take, _ = take_for(request, code, need="edit")
    try:
        credentials.take_sign_again_request(take=take, author=request.user)
    except errors.Refused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(
            request, "Cutroom is signing the result again; this page says when it is done."
        )
    return redirect("take_detail", code=take.code)


@login_required
@require_GET
def take_credentials_status(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """The credentials notice of the take page, polled while the result is being signed."""
    take, membership = take_for(request, code)
    context = {"take": take, "membership": membership}
    return render(request, "takes/take_detail.html#credentials", context)
