"""`?export=csv|xlsx` on a list page: every row the filters select (not one page), in the
page's order, labels not codes, dates as dates in XLSX, the reader's scope; past
EXPORT_SYNC_MAX_ROWS a background job whose file holds the same rows, for its owner alone."""

import csv
import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from reminders.models import ExportJob, Notification
from reminders.services.exports import export_run
from sites.models import Site
from tests.exports import csv_rows
from tests.factories import AdminFactory, SiteFactory, TrialFactory, cra_of, crm_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def big_trial(db):
    trial = TrialFactory(protocol_number="EXP-1")
    admin = AdminFactory()
    for n in range(70):
        SiteFactory(trial=trial, by=admin, number=f"{n + 1:03d}", institution=f"Clinic {n + 1}",
                    country="FR" if n % 2 else "DE")
    for n, site in enumerate(Site.objects.filter(trial=trial).order_by("number")):
        Site.objects.filter(pk=site.pk).update(activated_on=date(2026, 3, 1) + timedelta(days=n))
    return trial


def expected(trial, **filters):
    return list(Site.objects.filter(trial=trial, **filters).order_by("-number")
                .values_list("number", "institution", "country", "activated_on"))


def test_csv_export_holds_every_filtered_row_in_the_page_order(client, big_trial):
    client.force_login(crm_of(big_trial))
    response = client.get(f"/trials/{big_trial.pk}/sites/",
                          {"country": "DE", "sort": "-number", "page": 1, "export": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    header, *rows = csv_rows(response)
    assert header[:4] == ["No.", "Institution", "City", "Country"]
    want = expected(big_trial, country="DE")
    assert len(rows) == len(want) == 35  # more than a page of 50 would cut? all rows, any page
    assert [(r[0], r[1], r[3]) for r in rows] == [(n, i, c) for n, i, c, _ in want]
    assert rows[0][header.index("Activated")] == want[0][3].strftime("%d-%b-%Y")
    assert rows[0][header.index("Status")] == "Identified"  # the label, not the code


def test_an_export_is_not_one_page(client, big_trial):
    client.force_login(crm_of(big_trial))
    _, *rows = csv_rows(client.get(f"/trials/{big_trial.pk}/sites/",
                                   {"page": 2, "export": "csv"}))
    assert len(rows) == 70


def test_xlsx_export_holds_the_same_rows_with_real_dates(client, big_trial):
    client.force_login(crm_of(big_trial))
    response = client.get(f"/trials/{big_trial.pk}/sites/",
                          {"country": "DE", "sort": "-number", "export": "xlsx"})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    header, *rows = list(book.active.iter_rows(values_only=True))
    want = expected(big_trial, country="DE")
    assert len(rows) == 35
    activated = header.index("Activated")
    assert [(r[0], r[1], r[3], r[activated].date()) for r in rows] == want
    assert rows[0][header.index("Status")] == "Identified"


def test_exports_keep_to_the_readers_scope(client, big_trial):
    site = Site.objects.get(trial=big_trial, number="009")
    client.force_login(cra_of(site))
    _, *rows = csv_rows(client.get(f"/trials/{big_trial.pk}/sites/", {"export": "csv"}))
    assert [r[0] for r in rows] == ["009"]


def test_a_cell_a_spreadsheet_would_run_is_text_in_both_formats(client, big_trial):
    Site.objects.filter(trial=big_trial, number="001").update(institution="=HYPERLINK(1)")
    client.force_login(crm_of(big_trial))
    _, first, *_ = csv_rows(client.get(f"/trials/{big_trial.pk}/sites/", {"export": "csv"}))
    assert first[1] == "'=HYPERLINK(1)"
    response = client.get(f"/trials/{big_trial.pk}/sites/", {"export": "xlsx"})
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    cell = book.active["B2"]
    assert cell.value == "=HYPERLINK(1)"
    assert cell.data_type == "s"


def test_a_big_export_becomes_a_job_whose_file_holds_the_same_rows(client, big_trial,
                                                                     settings, tmp_path):
    settings.EXPORT_SYNC_MAX_ROWS = 20
    settings.STORAGES = {**settings.STORAGES, "exports": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": tmp_path}}}
    crm = crm_of(big_trial)
    client.force_login(crm)
    response = client.get(f"/trials/{big_trial.pk}/sites/",
                          {"country": "FR", "sort": "-number", "export": "csv"})
    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response.url == f"/exports/{job.pk}/"
    assert (job.created_by, job.state, job.format) == (crm, "queued", "csv")
    assert "Queued" in client.get(response.url).content.decode() or "Waiting" in (
        client.get(response.url).content.decode())
    export_run(job_id=job.pk)  # what the exports worker runs
    job.refresh_from_db()
    assert (job.state, job.done, job.total) == ("done", 35, 35)
    assert Notification.objects.get(user=crm, kind="export").url == f"/exports/{job.pk}/"
    page = client.get(f"/exports/{job.pk}/progress/").content.decode()
    assert f"/exports/{job.pk}/file/" in page
    download = client.get(f"/exports/{job.pk}/file/")
    body = b"".join(download.streaming_content).decode("utf-8-sig")
    _, *rows = list(csv.reader(io.StringIO(body)))
    assert [r[0] for r in rows] == [n for n, *_ in expected(big_trial, country="FR")]
    client.force_login(crm_of(big_trial))  # another person, even on the same trial
    assert client.get(f"/exports/{job.pk}/").status_code == 404
    assert client.get(f"/exports/{job.pk}/file/").status_code == 404


def test_a_job_reselects_the_rows_within_its_owners_scope(client, big_trial, settings,
                                                            tmp_path):
    settings.EXPORT_SYNC_MAX_ROWS = 0  # every export a job
    settings.STORAGES = {**settings.STORAGES, "exports": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": tmp_path}}}
    cra = cra_of(Site.objects.get(trial=big_trial, number="002"))
    client.force_login(cra)
    client.get(f"/trials/{big_trial.pk}/sites/", {"export": "xlsx"})
    job = export_run(job_id=ExportJob.objects.get().pk)
    assert (job.state, job.total) == ("done", 1)
    download = client.get(f"/exports/{job.pk}/file/")
    book = load_workbook(io.BytesIO(b"".join(download.streaming_content)), read_only=True)
    assert [row[0] for row in book.active.iter_rows(min_row=2, values_only=True)] == ["002"]


def test_a_job_for_a_list_its_owner_can_no_longer_see_fails_and_says_so(big_trial, settings,
                                                                        tmp_path):
    settings.STORAGES = {**settings.STORAGES, "exports": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": tmp_path}}}
    outsider = crm_of(TrialFactory())
    job = ExportJob.objects.create(created_by=outsider, spec="dashboards.lists.TRIAL_SITES",
                                   title="Sites", url_kwargs={"pk": big_trial.pk}, format="csv")
    job = export_run(job_id=job.pk)
    assert job.state == "failed"
    assert job.file == ""
    assert job.error
