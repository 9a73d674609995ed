"""The CTCAE v5.0 dictionary: the shipped facts table and NCI's full file (CSV or XLSX).

Facts table columns: meddra_code, term, soc, grades (the grades that exist, e.g. "12345").
Source: NCI CTCAE v5.0 (27 Nov 2017), a US Government work in the public domain.
"""

import csv
from collections.abc import Iterable, Iterator
from pathlib import Path

from croportal.exceptions import ApplicationError

FACTS_COLUMNS = ["meddra_code", "term", "soc", "grades"]
NCI_COLUMNS = ["MedDRA Code", "MedDRA SOC", "CTCAE Term"]
NCI_SHEET = "CTCAE v5.0 Clean Copy"


def _not_applicable(text: str | None) -> bool:
    return text is None or text.strip() in {"", "-", "\u2013", "\u2014"}


def _nci_row(record: dict) -> dict:
    code = str(record.get("MedDRA Code") or "").strip()
    if code.endswith(".0"):  # spreadsheet numbers
        code = code[:-2]
    if not code.isdigit() or len(code) != 8:
        raise ApplicationError(f"Not an 8-digit MedDRA code: {code!r}", field="file")
    definitions = {}
    for grade in range(1, 6):
        text = record.get(f"Grade {grade}")
        if not _not_applicable(text):
            definitions[str(grade)] = str(text).strip()
    definition = record.get("Definition")
    return {
        "meddra_code": code,
        "term": str(record["CTCAE Term"]).strip(),
        "soc": str(record["MedDRA SOC"]).strip(),
        "grades": "".join(sorted(definitions)),
        "grade_definitions": definitions,
        "definition": "" if _not_applicable(definition) else str(definition).strip(),
    }


def _check_header(header: Iterable[str], required: list[str], path: Path) -> None:
    missing = [column for column in required if column not in header]
    if missing:
        raise ApplicationError(
            f"{path.name} is not a CTCAE file: missing column(s) {', '.join(missing)}",
            field="file",
        )


def read_nci_file(path: Path) -> list[dict]:
    """Rows of NCI's full CTCAE v5 file, CSV export or the published XLSX workbook."""
    if not path.exists():
        raise ApplicationError(f"No such file: {path}", field="file")
    if path.suffix.lower() == ".xlsx":
        return list(_read_xlsx(path))
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        _check_header(reader.fieldnames or [], NCI_COLUMNS, path)
        return [_nci_row(record) for record in reader]


def _read_xlsx(path: Path) -> Iterator[dict]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise ApplicationError(
            f"{path.name} is not a readable workbook: {exc}", field="file"
        ) from None
    sheet = workbook[NCI_SHEET] if NCI_SHEET in workbook.sheetnames else workbook.active
    rows = sheet.iter_rows(values_only=True)
    header = [str(cell).strip() if cell is not None else "" for cell in next(rows)]
    _check_header(header, NCI_COLUMNS, path)
    for values in rows:
        record = dict(zip(header, values, strict=False))
        if record.get("MedDRA Code"):
            yield _nci_row(record)


def read_facts_file(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(line for line in handle if not line.startswith("#"))
        _check_header(reader.fieldnames or [], FACTS_COLUMNS, path)
        return [dict(record) for record in reader]


