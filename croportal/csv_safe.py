"""CSV exports that a spreadsheet cannot run as formulas (OWASP "CSV Injection").

A cell beginning with `=`, `+`, `-` or `@` (or a tab or carriage return, which some
spreadsheets skip before reading a formula) is prefixed with a single quote, so Excel,
LibreOffice and Google Sheets show it as text: `=HYPERLINK(...)` from a reason for change
must not become a live link in a sponsor's spreadsheet. Every export writes through here.
"""

import csv
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """The value, with a leading quote if a spreadsheet would read it as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeCsvWriter:
    """`csv.writer` whose rows are neutralised cell by cell."""

    def __init__(self, file: Any, **options: Any) -> None:
        self._writer = csv.writer(file, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([csv_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(file: Any, **options: Any) -> SafeCsvWriter:
    """A CSV writer for exports: the only one a view should use."""
    return SafeCsvWriter(file, **options)
