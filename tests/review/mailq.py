"""The inbox's mail tasks as the worker would run them: what the web process queued in
django-q2's ORM broker, played in order (and removed)."""

from __future__ import annotations

from django_q.models import OrmQ

from studio import tasks


def queued_inbox_mails() -> list[list[str]]:
    return [q.args()[0] for q in OrmQ.objects.all() if q.func() == "studio.tasks.inbox_mail"]


def run_inbox_mails() -> int:
    """Run every queued instant-mail task once; how many tasks ran."""
    ran = 0
    for queued in OrmQ.objects.all():
        if queued.func() == "studio.tasks.inbox_mail":
            tasks.inbox_mail(*queued.args())
            queued.delete()
            ran += 1
    return ran
