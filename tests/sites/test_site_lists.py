"""A site's subjects and documents as lists (sort, filter, search, page, export), and the site
page with only their first rows: a subject found by number gets its forms there."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from sites.models import EssentialDocument, Subject
from tests.factories import (
    AdminFactory,
    EssentialDocumentFactory,
    SiteFactory,
    SubjectFactory,
    TrialFactory,
    cra_of,
    crm_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy_site(db):
    trial = TrialFactory()
    site = SiteFactory(trial=trial, activated=True)
    admin = AdminFactory()
    for n in range(57):
        SubjectFactory(site=site, by=admin, number=f"S-{n:03d}", enrolled=n % 3 == 0)
    for n, subject in enumerate(Subject.objects.filter(site=site).order_by("number")):
        Subject.objects.filter(pk=subject.pk).update(screened_on=date(2026, 2, 1) + timedelta(n))
    return site


def body_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content)
                                       .decode("utf-8-sig"))))


def test_the_subjects_list_pages_sorts_filters_and_exports(client, busy_site):
    client.force_login(crm_of(busy_site.trial))
    url = f"/sites/{busy_site.pk}/subjects/"
    html = client.get(url).content.decode()
    assert "Page 1 of 2" in html
    assert "S-049" in html
    assert "S-050" not in html
    assert "S-056" in client.get(url, {"sort": "-screened_on"}).content.decode().split(
        "<tbody>")[1][:400]
    enrolled = client.get(url, {"status": "enrolled", "export": "csv"})
    header, *rows = body_rows(enrolled)
    want = list(Subject.objects.filter(site=busy_site, status="enrolled").order_by("number")
                .values_list("number", flat=True))
    assert [row[0] for row in rows] == want
    assert len(want) == 19
    assert {row[header.index("Status")] for row in rows} == {"Enrolled"}
    everything = client.get(url, {"page": 2, "export": "xlsx"})
    book = load_workbook(io.BytesIO(b"".join(everything.streaming_content)), read_only=True)
    head, *lines = list(book.active.iter_rows(values_only=True))
    assert len(lines) == 57
    assert lines[0][head.index("Screened")].date() == date(2026, 2, 1)


def test_the_documents_list_filters_by_kind_and_exports_the_filers_names(client, busy_site):
    cra = cra_of(busy_site, first_name="Ada", last_name="Lovelace")
    EssentialDocumentFactory(site=busy_site, by=cra, kind="delegation_log", version="7")
    client.force_login(cra)
    response = client.get(f"/sites/{busy_site.pk}/documents/",
                          {"kind": "delegation_log", "export": "csv"})
    header, *rows = body_rows(response)
    assert [row[header.index("Version")] for row in rows] == ["7"]
    assert rows[0][header.index("Filed by")] == "Ada Lovelace"
    assert rows[0][header.index("Document")] == "Delegation log"
    all_rows = body_rows(client.get(f"/sites/{busy_site.pk}/documents/", {"export": "csv"}))
    assert len(all_rows) - 1 == EssentialDocument.objects.filter(site=busy_site).count()


def test_another_sites_cra_gets_404_on_its_lists_and_exports(client, busy_site):
    other = SiteFactory(trial=busy_site.trial)
    client.force_login(cra_of(other))
    for path in ("subjects", "documents"):
        assert client.get(f"/sites/{busy_site.pk}/{path}/").status_code == 404
        assert client.get(f"/sites/{busy_site.pk}/{path}/", {"export": "xlsx"}).status_code == 404


def test_the_site_page_shows_ten_subjects_and_finds_any_other_with_its_forms(client,
                                                                               busy_site):
    client.force_login(cra_of(busy_site))
    html = client.get(f"/sites/{busy_site.pk}/").content.decode()
    table = html.split('id="subject-table"', 1)[1].split("</table>", 1)[0]
    assert table.count('<tr id="subject-') == 10
    assert "Showing 10 of 57 subjects" in html
    assert f"/sites/{busy_site.pk}/subjects/" in html
    found = client.get(f"/sites/{busy_site.pk}/", {"subject": "S-055"}).content.decode()
    table = found.split('id="subject-table"', 1)[1].split("</table>", 1)[0]
    subject = Subject.objects.get(site=busy_site, number="S-055")
    assert table.count('<tr id="subject-') == 1
    assert f'id="subject-{subject.pk}"' in table
    assert "subject-transition" in table  # its forms are there


def test_the_site_page_costs_the_same_queries_with_few_or_many_subjects(client, busy_site):
    small = SiteFactory(trial=busy_site.trial, activated=True)
    SubjectFactory(site=small, number="ONE-1")
    client.force_login(crm_of(busy_site.trial))
    counts = []
    for site in (small, busy_site):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/sites/{site.pk}/").status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]
    for path in ("subjects", "documents"):
        counts = []
        for site in (small, busy_site):
            with CaptureQueriesContext(connection) as captured:
                assert client.get(f"/sites/{site.pk}/{path}/").status_code == 200
            counts.append(len(captured))
        assert counts[0] == counts[1], path
