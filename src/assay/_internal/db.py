"""Start Django for the command line: choose the database, then apply migrations."""

from __future__ import annotations

import os
from pathlib import Path

import django
from django.conf import settings

from assay.errors import InputError


def setup(data_dir: Path) -> None:
    """Configure Django with the SQLite file in ``data_dir`` (unless PostgreSQL is configured)."""
    if not settings.configured and "DJANGO_SETTINGS_MODULE" not in os.environ:
        data_dir.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("ASSAY_SQLITE_PATH", str(data_dir / "assay.sqlite3"))
        os.environ["DJANGO_SETTINGS_MODULE"] = "assay._internal.settings"
    django.setup()
    from django.core.management import call_command
    from django.db import DatabaseError, connection

    try:
        call_command("migrate", verbosity=0, interactive=False)
    except DatabaseError as error:
        if connection.vendor != "sqlite":
            raise
        # A garbled file: say so and leave it, as it may be all that is left of the index.
        raise InputError(
            database_name(),
            f"not an SQLite database Assay can open ({error}); it was left untouched: "
            "restore it from a backup, or move it aside and rebuild the index from the locker "
            "with 'assay evidence reindex'",
        ) from None


def database_name() -> str:
    """The database a message should name: the SQLite file, or the PostgreSQL database."""
    from django.db import connection

    return str(connection.settings_dict["NAME"])
