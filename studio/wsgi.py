"""WSGI entry point for gunicorn."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")

application = get_wsgi_application()

# Gunicorn runs no system checks; a content-credentials identity that cannot sign stops it here.
from studio.provenance.checks import identity_required  # noqa: E402

identity_required()
