"""Many rows into one table, fast: ``executemany`` with each value prepared as its field would.

A run writes hundreds of thousands of rows (the current inventory, the evidence index). Building
a model instance for each, as ``bulk_create`` does, took longer than everything else a run does
at 10,000 people; this skips the instances and keeps the field's own conversion for the values
that need one (dates, times and JSON), so SQLite and PostgreSQL get what the ORM would send.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from itertools import islice
from typing import Any

from django.db import connection, models

BATCH = 5000


def insert_rows(model: type[models.Model], rows: Iterable[Mapping[str, Any]]) -> None:
    """Insert ``rows``, each a mapping of every non-key field's ``attname`` to its value."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} "
        f"({', '.join(quote(str(f.column)) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    prepare = [(f.attname, _preparer(f)) for f in fields]
    pending = iter(rows)
    with connection.cursor() as cursor:
        while chunk := [
            tuple(adapt(row[name]) for name, adapt in prepare) for row in islice(pending, BATCH)
        ]:
            cursor.executemany(sql, chunk)


def _preparer(field: models.Field[Any, Any]) -> Callable[[Any], Any]:
    if isinstance(field, models.JSONField | models.DateTimeField | models.DateField):
        return lambda value: None if value is None else field.get_db_prep_save(value, connection)
    return lambda value: value
