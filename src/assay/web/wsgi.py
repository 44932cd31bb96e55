"""The WSGI application ``assay serve`` runs (``ASSAY_PROGRAMME`` names the programme file)."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assay._internal.settings")
application = get_wsgi_application()
