"""The past ClinicalTrials.gov imports (`/trials/import/history/`, ctgov:history): for whoever
may create trials, their own imports (an administrator's: everyone's), pages of 50, sort,
filter by state, search, CSV/XLSX exports of the filtered rows, linked from the upload page,
bounded queries."""

import csv
import io
import re
from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from access.codenames import ADD_TRIAL
from tests.factories import AdminFactory, TrialFactory, UserFactory, crm_of
from trials.models import CtgovImport

pytestmark = pytest.mark.django_db

URL = "/trials/import/history/"


def importer():
    user = UserFactory(first_name="Ivy", last_name="Importer")
    user.user_permissions.add(Permission.objects.get(codename=ADD_TRIAL))
    return user


def make_imports(user, n: int, *, start: int = 0) -> None:
    trial = TrialFactory(protocol_number=f"IMP-{user.pk}-{start}")
    now = timezone.now()
    for i in range(start, start + n):
        state = "done" if i % 2 == 0 else ("failed" if i % 3 == 0 else "preview")
        job = CtgovImport.objects.create(
            created_by=user, filename=f"study-{i:03d}.json", nct_id=f"NCT{i:08d}",
            record={"big": "x" * 1000}, state=state, total=i, trial=trial if state == "done"
            else None)
        CtgovImport.objects.filter(pk=job.pk).update(created_at=now - timedelta(hours=i))


@pytest.fixture
def ivy(db):
    user = importer()
    make_imports(user, 55)
    return user


def ncts(response) -> list[str]:
    body = response.content.decode().split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r">(NCT\d{8})<", body)


def rows_of(response, fmt: str) -> list:
    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    if fmt == "csv":
        return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    return list(load_workbook(io.BytesIO(data), read_only=True).active.iter_rows(
        values_only=True))


def test_the_history_pages_sorts_filters_and_searches(client, ivy):
    client.force_login(ivy)
    first = client.get(URL)
    assert first.status_code == 200
    assert "Page 1 of 2" in first.content.decode()
    assert ncts(first) == [f"NCT{i:08d}" for i in range(50)]  # newest first
    assert ncts(client.get(URL, {"page": 2})) == [f"NCT{i:08d}" for i in range(50, 55)]
    assert ncts(client.get(URL, {"sort": "-total"}))[0] == "NCT00000054"
    failed = ncts(client.get(URL, {"state": "failed"}))
    assert failed == [f"NCT{i:08d}" for i in range(55) if i % 2 and i % 3 == 0]
    assert ncts(client.get(URL, {"q": "study-012"})) == ["NCT00000012"]
    html = first.content.decode()
    job = CtgovImport.objects.get(nct_id="NCT00000000")
    assert f'href="/trials/import/{job.pk}/progress/"' in html
    assert f'href="/trials/{job.trial_id}/"' in html
    assert "Ivy Importer" in html
    preview = CtgovImport.objects.get(nct_id="NCT00000001")
    assert f'href="/trials/import/{preview.pk}/"' in html
    bad = client.get(URL, {"state": "exploded"})
    assert bad.status_code == 200
    assert ncts(bad) == []


def test_exports_hold_every_filtered_import(client, ivy):
    client.force_login(ivy)
    header, *rows = rows_of(client.get(URL, {"page": 2, "export": "csv"}), "csv")
    assert header == ["When (UTC)", "NCT ID", "File", "State", "Sites", "Who", "Trial"]
    assert [r[1] for r in rows] == [f"NCT{i:08d}" for i in range(55)]
    assert rows[0][3:] == ["Done", "0", "Ivy Importer", f"IMP-{ivy.pk}-0"]
    _head, *sheet = rows_of(client.get(URL, {"state": "done", "sort": "total",
                                           "export": "xlsx"}), "xlsx")
    assert [r[1] for r in sheet] == [f"NCT{i:08d}" for i in range(0, 55, 2)]
    assert isinstance(sheet[0][0], datetime)
    assert sheet[-1][4] == 54


def test_each_sees_their_own_imports_and_the_admin_everyones(client, ivy):
    other = importer()
    make_imports(other, 2, start=100)
    client.force_login(other)
    assert ncts(client.get(URL)) == ["NCT00000100", "NCT00000101"]
    _, *rows = rows_of(client.get(URL, {"export": "csv"}), "csv")
    assert len(rows) == 2
    client.force_login(AdminFactory())
    _, *everyone = rows_of(client.get(URL, {"export": "csv"}), "csv")
    assert len(everyone) == 57
    client.force_login(crm_of(TrialFactory()))  # may not create trials
    assert client.get(URL).status_code == 403
    assert client.get(URL, {"export": "xlsx"}).status_code == 403


def test_the_upload_page_links_the_history(client, ivy):
    client.force_login(ivy)
    assert 'href="/trials/import/history/"' in client.get("/trials/import/").content.decode()


def test_the_history_runs_the_same_queries_for_few_or_many(client):
    user = importer()
    make_imports(user, 2)
    client.force_login(user)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL, {"sort": "who"}).status_code == 200
        return len(captured)

    few = queries()
    make_imports(user, 40, start=10)
    assert queries() == few
