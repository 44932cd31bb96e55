"""Django settings for Assay.

The database is SQLite by default — a file chosen by the command line next to the programme file
(``ASSAY_SQLITE_PATH``) — and PostgreSQL when ``ASSAY_DATABASE_URL`` is set. No secret is stored
here: the web app's key comes from the environment when the web app arrives.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse


def database_from_url(url: str) -> dict[str, Any]:
    """Django's DATABASES entry for ``postgresql://user:password@host:port/name``.

    A ``?host=/path`` query names a Unix socket directory instead of a network host.
    """
    parsed = urlparse(url)
    socket_dir = parse_qs(parsed.query).get("host", [""])[0]
    if parsed.scheme not in {"postgres", "postgresql"}:
        from assay.errors import InputError

        raise InputError(
            "ASSAY_DATABASE_URL", f"unsupported scheme '{parsed.scheme}'; use postgresql://"
        )
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parsed.path.lstrip("/")),
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": socket_dir or parsed.hostname or "",
        "PORT": str(parsed.port or ""),
    }


def _default_database() -> dict[str, Any]:
    url = os.environ.get("ASSAY_DATABASE_URL")
    if url:
        return database_from_url(url)
    path = os.environ.get("ASSAY_SQLITE_PATH") or str(Path.cwd() / ".assay" / "assay.sqlite3")
    return {"ENGINE": "django.db.backends.sqlite3", "NAME": path}


DATABASES = {"default": _default_database()}
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "assay.monitor",
    "assay.evidence",
    "assay.checks",
    "assay.inventory",
    "assay.audit",
]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
SECRET_KEY = os.environ.get("ASSAY_SECRET_KEY", "assay-cli-has-no-sessions")
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"autoescape": True},
    }
]
