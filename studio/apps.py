from __future__ import annotations

from django.apps import AppConfig


class StudioConfig(AppConfig):
    name = "studio"
    verbose_name = "Studio"

    def ready(self) -> None:
        from django_q.signals import post_spawn

        from studio.ops import health

        # Every django-q2 worker process starts a heartbeat thread when it is spawned.
        post_spawn.connect(health.start_heartbeat, dispatch_uid="studio-heartbeat")
