"""Bulk writing for the CRO-scale seed: ids chosen here (so rows refer to each other without a
read back), batched inserts, and the sequences moved past what was written."""

import time
from collections.abc import Iterable, Iterator
from itertools import islice

from django.core.management.color import no_style
from django.db import connection, models

BATCH = 5000


class Writer:
    """Inserts rows in batches and reports the count and time of each table written."""

    def __init__(self, out) -> None:
        self.out = out
        self.written: dict[str, int] = {}
        self.seconds: dict[str, float] = {}
        self.models: list[type[models.Model]] = []

    def next_id(self, model: type[models.Model]) -> int:
        top = model._default_manager.aggregate(top=models.Max("pk"))["top"] or 0
        return top + 1

    def insert(self, model: type[models.Model], rows: Iterable[models.Model]) -> int:
        started, count = time.monotonic(), 0
        for batch in _batches(iter(rows), BATCH):
            model._default_manager.bulk_create(batch)
            count += len(batch)
        label = model._meta.label
        self.written[label] = self.written.get(label, 0) + count
        self.seconds[label] = self.seconds.get(label, 0.0) + time.monotonic() - started
        if model not in self.models:
            self.models.append(model)
        return count

    def report(self) -> None:
        for label, count in self.written.items():
            self.out.write(f"  {label:<42} {count:>10,} rows {self.seconds[label]:7.1f} s")

    def finish(self) -> None:
        """Sequences past the ids written here, then fresh planner statistics."""
        with connection.cursor() as cursor:
            if connection.vendor != "postgresql":
                for sql in connection.ops.sequence_reset_sql(no_style(), self.models):
                    cursor.execute(sql)
                return
            for model in self.models:
                _sequence_past(cursor, model)
                cursor.execute(f'ANALYZE "{model._meta.db_table}"')


def _sequence_past(cursor, model: type[models.Model]) -> None:
    """Draw the id sequence up to the highest id written: nextval needs only the USAGE the
    portal's runtime role holds (setval would need UPDATE, which it has not)."""
    table, column = model._meta.db_table, model._meta.pk.column
    cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [f'"{table}"', column])
    (sequence,) = cursor.fetchone()
    if sequence is None:
        return
    cursor.execute(f'SELECT COALESCE(MAX("{column}"), 0) FROM "{table}"')  # noqa: S608
    (top,) = cursor.fetchone()
    cursor.execute("SELECT nextval(%s)", [sequence])
    (drawn,) = cursor.fetchone()
    if top > drawn:
        cursor.execute("SELECT max(nextval(%s)) FROM generate_series(1, %s)",
                       [sequence, top - drawn])


def _batches(rows: Iterator, size: int) -> Iterator[list]:
    while batch := list(islice(rows, size)):
        yield batch
