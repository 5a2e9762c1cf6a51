from __future__ import annotations

from django.apps import AppConfig


class StudioConfig(AppConfig):
    name = "studio"
    verbose_name = "Studio"

    def ready(self) -> None:
        from django_q.signals import post_spawn

        from studio.core.signals import render_ended, take_ended
        from studio.ops import health
        from studio.provenance import checks  # noqa: F401  (registers the signing-identity check)
        from studio.review import inbox
        from studio.takes import labelled

        # Every django-q2 worker process starts a heartbeat thread when it is spawned.
        post_spawn.connect(health.start_heartbeat, dispatch_uid="studio-heartbeat")
        # A take or render that ended reaches its maker's inbox, in the same transaction.
        take_ended.connect(inbox.notify_take_ended, dispatch_uid="studio-inbox-take")
        render_ended.connect(inbox.notify_render_ended, dispatch_uid="studio-inbox-render")
        # A take that succeeded gets its labelled download made when its team asks for labels.
        take_ended.connect(labelled.label_on_take_ended, dispatch_uid="studio-label-take")
