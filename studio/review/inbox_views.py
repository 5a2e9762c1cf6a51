"""The inbox page, marking items read, and the per-kind settings (docs/review.md "Inbox").

Every item belongs to one person: a code that is not theirs is a 404, whoever asks."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.http import AuthenticatedHttpRequest
from accounts.mail import can_send_mail
from studio.models import Kind
from studio.review import inbox
from studio.review.forms import InboxSettingsForm


def _back(request: AuthenticatedHttpRequest) -> str:
    """The inbox as the person was looking at it (kind and page), from the posted form."""
    url = reverse("inbox")
    kind, page = request.POST.get("kind", ""), request.POST.get("page", "")
    query = "&".join(
        part
        for part in (
            f"kind={kind}" if kind in Kind.values else "",
            f"page={page}" if page.isdigit() else "",
        )
        if part
    )
    return f"{url}?{query}" if query else url


@login_required
@require_GET
def inbox_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", "")
    rows = inbox.inbox_for(request.user).select_related(*inbox.RELATED)
    if kind in Kind.values:
        rows = rows.filter(kind=kind)
    else:
        kind = ""
    page = Paginator(rows, inbox.PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "review/inbox.html",
        {
            "page": page,
            "days": inbox.inbox_days(page.object_list),
            "kind": kind,
            "kinds": Kind.choices,
            "unread": inbox.unread_count(request.user),
            "today": timezone.localdate(),
        },
    )


@login_required
@require_GET
def inbox_open(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """Follow an item's link: it is read from now on."""
    item = get_object_or_404(
        inbox.inbox_for(request.user).select_related(*inbox.RELATED), code=code
    )
    inbox.mark_read(user=request.user, codes=[item.code])
    return redirect(inbox.target_url(item))


@login_required
@require_POST
def inbox_read(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    item = get_object_or_404(inbox.inbox_for(request.user), code=code)
    inbox.mark_read(user=request.user, codes=[item.code])
    messages.success(request, "Marked as read.")
    return redirect(f"{_back(request)}#inbox-list")


@login_required
@require_POST
def inbox_read_all(request: AuthenticatedHttpRequest) -> HttpResponse:
    count = inbox.mark_read(user=request.user)
    messages.success(request, f"Marked {count} as read." if count else "Nothing was unread.")
    return redirect(_back(request))


@login_required
@require_http_methods(["GET", "POST"])
def inbox_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    current = inbox.settings_of(request.user)
    form = InboxSettingsForm(
        request.POST if request.method == "POST" else None, initial_choices=current
    )
    if request.method == "POST" and form.is_valid():
        inbox.inbox_settings_save(user=request.user, choices=form.choices())
        messages.success(request, "Inbox settings saved.")
        return redirect("inbox_settings")
    return render(request, "review/inbox_settings.html", {"form": form, "mail": can_send_mail()})


@login_required
@require_GET
def for_you(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The old "For you" list of mentions, which the inbox replaced (links in old mails)."""
    return redirect("inbox")
