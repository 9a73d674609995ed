"""Exports of a list: every selected row, in the table's order, with the page's columns.

Cells are what the reader sees — a choice's label, a foreign key as what it names — except
dates and date-times, which stay values: in XLSX they are real dates (Excel sorts and filters
them), in CSV they are written in the portal's one format, date-times in the reader's zone.
Rows are read with `QuerySet.iterator(chunk_size=...)` and written as they come, so memory is
bounded whatever the list's length: CSV streams as it is written, XLSX is written row by row by
openpyxl's write-only workbook to a temporary file.
"""

import html
import io
import tempfile
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import IO, Any

from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.safestring import SafeData
from django_tables2.rows import BoundRow
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from croportal.csv_safe import csv_writer
from croportal.lists.spec import PortalTable, format_day, format_moment

CHUNK = 1000
FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
XLSX_DATE = "DD-MMM-YYYY"
XLSX_MOMENT = "DD-MMM-YYYY HH:MM"


def headers(table: PortalTable) -> list[str]:
    zone = timezone.get_current_timezone_name()
    return [f"{column.header} ({zone})" if _is_moment(column) else str(column.header)
            for column in table.export_columns()]


def records(table: PortalTable) -> Iterator[Any]:
    return table.data.data.iterator(chunk_size=CHUNK)


def cells(table: PortalTable, record: Any) -> list[Any]:
    """One row's values: dates as dates, the rest as the page shows them, without markup."""
    row = BoundRow(record, table=table)
    values = []
    for column in table.export_columns():
        raw = column.accessor.resolve(record, quiet=True)
        custom = getattr(table, f"value_{column.name}", None)
        if isinstance(raw, date) and custom is None:
            values.append(raw)
        else:
            value = row.get_cell_value(column.name)
            if isinstance(value, SafeData):  # a render_<column> link or badge: its text
                value = html.unescape(strip_tags(value))
            values.append("" if value is None or value == column.default else value)
    return values


def csv_lines(table: PortalTable, *, progress: Callable[[int], None] | None = None
              ) -> Iterator[str]:
    """The CSV, line by line (a byte-order mark first, for Excel)."""
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow(headers(table))
    yield "\ufeff" + _drain(buffer)
    for count, record in enumerate(records(table), start=1):
        writer.writerow([_text(value) for value in cells(table, record)])
        if count % CHUNK == 0:
            if progress:
                progress(count)
            yield _drain(buffer)
    yield _drain(buffer)


def xlsx_file(table: PortalTable, *, title: str,
              progress: Callable[[int], None] | None = None) -> IO[bytes]:
    """The XLSX in a temporary file, positioned at its start."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=_sheet_title(title))
    sheet.append(headers(table))
    for count, record in enumerate(records(table), start=1):
        sheet.append([_xlsx_cell(sheet, value) for value in cells(table, record)])
        if progress and count % CHUNK == 0:
            progress(count)
    output = tempfile.TemporaryFile()  # noqa: SIM115 (the response closes it)
    book.save(output)
    output.seek(0)
    return output


def _is_moment(column) -> bool:
    from croportal.lists.spec import MomentColumn

    return isinstance(column.column, MomentColumn)


def _text(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_moment(value)
    if isinstance(value, date):
        return format_day(value)
    return value


def _xlsx_cell(sheet, value: Any) -> Any:
    if isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value=timezone.localtime(value).replace(tzinfo=None))
        cell.number_format = XLSX_MOMENT
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = XLSX_DATE
        return cell
    if isinstance(value, str):
        return _xlsx_text(sheet, value)
    return value


def _xlsx_text(sheet, value: str) -> WriteOnlyCell:
    """Text as text: no control characters XML cannot hold, never read as a formula (openpyxl
    would store a leading `=` as one)."""
    cell = WriteOnlyCell(sheet, value="".join(ch for ch in value
                                              if ch in "\t\n\r" or ord(ch) >= 32))
    cell.data_type = "s"
    return cell


def _sheet_title(title: str) -> str:
    cleaned = "".join(ch for ch in title if ch not in "[]:*?/\\")
    return (cleaned or "List")[:31]


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
