"""The training list and a trial's staff list on the one list mechanism: pages of 50, statuses
computed in the query (sortable, filterable; renewed records), search, htmx, CSV/XLSX exports
equal to the filtered rows, the reader's scope, the start/end forms, bounded queries."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from staffing.models import Assignment, Role, TrainingRecord
from staffing.services import assignment_start, training_record_create
from tests.exports import csv_rows, xlsx_rows
from tests.factories import SiteFactory, TrialFactory, UserFactory, crm_of

pytestmark = pytest.mark.django_db

TRAINING = "/staff/training/"


def found(response, pattern: str) -> list[str]:
    body = response.content.decode().split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(pattern, body)


# ---------------------------------------------------------------------------------- training

@pytest.fixture
def trained(cra, admin):
    """56 'other' trainings of the CRA (T-000…T-055; every fourth expired, T-001 expiring
    soon), and a GCP record renewed by a later one."""
    today = timezone.localdate()
    for n in range(56):
        expires = (today - timedelta(days=1) if n % 4 == 0 else
                   today + timedelta(days=10) if n == 1 else today + timedelta(days=400))
        training_record_create(user=cra, kind="other", title=f"T-{n:03d}", by=admin,
                               completed_on=today - timedelta(days=500 - n),
                               expires_on=expires)
    training_record_create(user=cra, kind="gcp", by=admin, completed_on=date(2022, 1, 10))
    training_record_create(user=cra, kind="gcp", by=admin, completed_on=today - timedelta(3))
    return cra


def test_training_list_pages_sorts_and_filters_by_status(client, trained):
    client.force_login(trained)
    first = client.get(TRAINING)
    assert first.status_code == 200
    assert "Page 1 of 2" in first.content.decode()
    assert len(found(first, r"T-\d{3}")) == 48  # after the two GCP records (kind order)
    expired = found(client.get(TRAINING, {"status": "expired"}), r"T-\d{3}")
    assert expired == [f"T-{n:03d}" for n in range(52, -1, -4)]  # latest completed first
    assert found(client.get(TRAINING, {"status": "expiring"}), r"T-\d{3}") == ["T-001"]
    renewed = client.get(TRAINING, {"status": "renewed"}).content.decode()
    assert "Renewed" in renewed
    assert "10-Jan-2022" in renewed
    current = client.get(TRAINING, {"status": "current", "kind": "gcp"}).content.decode()
    assert "10-Jan-2022" not in current
    assert ">GCP<" in current
    assert found(client.get(TRAINING, {"q": "t-05"}), r"T-\d{3}") == [
        f"T-{n:03d}" for n in range(55, 49, -1)]
    assert found(client.get(TRAINING, {"sort": "-title"}), r"T-\d{3}")[0] == "T-055"
    assert found(client.get(TRAINING, {"sort": "status", "kind": "other"}),
                 r"T-\d{3}")[0] == "T-002"  # current < expired < expiring … alphabetical


def test_training_exports_hold_the_filtered_rows_with_dates(client, trained):
    client.force_login(trained)
    header, *rows = csv_rows(client.get(TRAINING, {"kind": "other", "sort": "title",
                                                   "export": "csv"}))
    assert header == ["Person", "Training", "Title", "Completed", "Expires", "Status"]
    assert [r[2] for r in rows] == [f"T-{n:03d}" for n in range(56)]
    assert rows[0][0] == trained.full_name
    assert rows[0][1] == "Other"
    assert rows[0][5] == "Expired"
    assert rows[1][5] == "Expiring within 30 days"
    _head, *sheet = xlsx_rows(client.get(TRAINING, {"export": "xlsx"}))
    assert len(sheet) == TrainingRecord.objects.filter(user=trained).count() == 58
    record = TrainingRecord.objects.get(title="T-010")
    row = next(r for r in sheet if r[2] == "T-010")
    assert row[3].date() == record.completed_on
    assert row[4].date() == record.expires_on


def test_training_scope_own_records_and_the_crms_team(client, trained, crm):
    outsider_crm = crm_of(TrialFactory())
    training_record_create(user=outsider_crm, kind="other", title="T-998", by=outsider_crm,
                           completed_on=date(2025, 1, 1))
    client.force_login(crm)  # the CRA's CRM sees the team's records
    _, *rows = csv_rows(client.get(TRAINING, {"export": "csv"}))
    assert {r[2] for r in rows} >= {"T-000", "T-055"}
    assert "T-998" not in {r[2] for r in rows}
    client.force_login(trained)
    _, *own = csv_rows(client.get(TRAINING, {"q": "T-998", "export": "csv"}))
    assert own == []
    client.force_login(outsider_crm)
    _, *theirs = csv_rows(client.get(TRAINING, {"export": "csv"}))
    assert [r[2] for r in theirs] == ["T-998"]


def test_training_form_still_adds_a_record(client, cra):
    client.force_login(cra)
    assert client.get(TRAINING, headers={"HX-Request": "true", "HX-Target": "list-training"}
                      ).content.decode().startswith("<div id=\"list-training\"")
    response = client.post(TRAINING, {"kind": "gcp", "completed_on": "2026-03-02", "title": ""})
    assert response.status_code == 302
    assert TrainingRecord.objects.filter(user=cra).count() == 1


# ------------------------------------------------------------------------------- trial staff

@pytest.fixture
def staffed(trial, site, admin):
    """55 CRAs on the trial's site (S-000…S-054); five ended, two upcoming."""
    today = timezone.localdate()
    for n in range(55):
        person = UserFactory(username=f"s_{n:03d}", first_name="Staff", last_name=f"S-{n:03d}")
        start = today + timedelta(days=5) if n in (3, 4) else today - timedelta(days=100)
        assignment = assignment_start(user=person, trial=trial, site=site, role=Role.CRA,
                                      by=admin, start_date=start, allocation=Decimal("0.2"))
        if n >= 50:
            Assignment.objects.filter(pk=assignment.pk).update(end_date=today - timedelta(1))
    return trial


def test_trial_staff_list_pages_filters_and_exports(client, staffed, crm, site):
    url = f"/staff/trials/{staffed.pk}/"
    client.force_login(crm)
    page = client.get(url)
    assert page.status_code == 200
    assert "Page 1 of 2" in page.content.decode()
    assert found(client.get(url, {"status": "ended"}), r"S-\d{3}") == [
        f"S-{n:03d}" for n in range(50, 55)]
    assert found(client.get(url, {"status": "upcoming"}), r"S-\d{3}") == ["S-003", "S-004"]
    assert found(client.get(url, {"q": "s-01"}), r"S-\d{3}") == [
        f"S-{n:03d}" for n in range(10, 20)]
    assert "End an assignment" in page.content.decode()  # the forms stay
    header, *rows = csv_rows(client.get(url, {"role": "CRA", "sort": "person",
                                              "export": "csv", "page": 2}))
    cras = Assignment.objects.filter(trial=staffed, role=Role.CRA)
    assert len(rows) == cras.count() == 55
    assert header == ["Person", "Role", "Site", "Start", "End", "Allocation", "Status"]
    s000 = next(r for r in rows if r[0] == "Staff S-000")
    assert s000[1] == "Clinical research associate"
    assert s000[6] == "Active"
    assert s000[2] == f"{site.number} {site.institution}"
    _head, *sheet = xlsx_rows(client.get(url, {"status": "ended", "export": "xlsx"}))
    assert [r[0] for r in sheet] == [f"Staff S-{n:03d}" for n in range(50, 55)]
    assert sheet[0][4].date() == timezone.localdate() - timedelta(1)
    assert sheet[0][5] == 0.2


def test_trial_staff_list_is_for_the_trials_staff_managers(client, staffed, cra):
    url = f"/staff/trials/{staffed.pk}/"
    client.force_login(cra)
    assert client.get(url, {"export": "csv"}).status_code == 403
    client.force_login(crm_of(TrialFactory()))
    assert client.get(url, {"export": "xlsx"}).status_code == 404


def test_staff_lists_run_the_same_queries_for_few_or_many(client, trial, crm, admin, cra):
    def queries(url, params) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url, params).status_code == 200
        return len(captured)

    client.force_login(crm)
    staff = f"/staff/trials/{trial.pk}/"
    training_record_create(user=cra, kind="gcp", by=admin, completed_on=date(2024, 1, 1))
    few = (queries(staff, {"sort": "-status"}), queries(TRAINING, {"status": "current"}))
    for _n in range(30):
        person = UserFactory()
        assignment_start(user=person, trial=trial, site=SiteFactory(trial=trial), by=admin,
                         role=Role.CRA, start_date=timezone.localdate(),
                         allocation=Decimal("0.1"))
        training_record_create(user=person, kind="gcp", by=admin, completed_on=date(2024, 1, 1))
    many = (queries(staff, {"sort": "-status"}), queries(TRAINING, {"status": "current"}))
    assert many == few
