"""In Chromium: the CRM opens a large trial's sites from the trial page, sorts by a column,
filters, searches, pages — htmx swapping the table, the URL following — and exports what the
filters select as CSV and XLSX."""

import csv
import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from sites.models import Site
from tests.factories import SiteFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SITES = 120


def numbers(page) -> list[str]:
    return page.locator("#list-sites tbody tr td:first-child").all_inner_texts()


def test_sort_filter_page_and_export_the_sites_of_a_large_trial(live_world, live_server, login,
                                                                tmp_path):
    w = live_world
    for n in range(SITES):
        SiteFactory(trial=w.trial_a, by=w.admin, number=f"L{n:03d}",
                    institution=f"Centre {n:03d}", country="IT" if n % 4 == 0 else "ES")
    page = login(w.crm.username)
    page.goto(f"{live_server.url}/trials/{w.trial_a.pk}/")
    page.locator("#all-sites").click()
    expect(page.locator("h1")).to_contain_text("Sites of")
    expect(page.locator("#list-sites tbody tr")).to_have_count(50)
    # Sort by number, descending (second click on the header); only the table is swapped.
    page.evaluate("window.__marker = 1")
    page.locator("#list-sites th a", has_text="No.").click()
    expect(page).to_have_url(re.compile(r"sort=number"))
    page.locator("#list-sites th a", has_text="No.").click()
    expect(page).to_have_url(re.compile(r"sort=-number"))
    expect(page.locator("#list-sites tbody tr td:first-child").first).to_have_text("L119")
    assert page.evaluate("window.__marker") == 1  # no full reload
    # Filter to Italy and search; the URL keeps both, and the sort.
    page.locator("input[name=country]").fill("IT")
    page.locator("input[name=country]").press("Enter")
    expect(page.locator("#list-sites tbody tr td:first-child").first).to_have_text("L116")
    expect(page).to_have_url(re.compile(r"country=IT"))
    expect(page).to_have_url(re.compile(r"sort=-number"))
    want = list(Site.objects.filter(trial=w.trial_a, country="IT")
                .order_by("-number").values_list("number", flat=True))
    assert numbers(page) == want  # 30 rows: one page
    # Page through all sites again, without the filter.
    page.goto(f"{live_server.url}/trials/{w.trial_a.pk}/sites/?sort=number")
    page.locator("#list-sites a[rel=next]").click()
    expect(page.locator(".page-of").first).to_contain_text("Page 2 of")
    assert page.evaluate("window.location.search").count("page=2") == 1
    # Export what the filter selects, both formats.
    page.goto(f"{live_server.url}/trials/{w.trial_a.pk}/sites/?country=IT&sort=-number")
    with page.expect_download() as csv_download:
        page.locator("#list-sites-csv").click()
    body = Path(csv_download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))[1:]
    assert [row[0] for row in rows] == want
    with page.expect_download() as xlsx_download:
        page.locator("#list-sites-xlsx").click()
    assert xlsx_download.value.suggested_filename.endswith(".xlsx")
    book = load_workbook(io.BytesIO(xlsx_download.value.path().read_bytes()), read_only=True)
    assert [row[0] for row in book.active.iter_rows(min_row=2, values_only=True)] == want
