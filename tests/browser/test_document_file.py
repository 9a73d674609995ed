"""In Chromium: the CRA files an essential document with its PDF on the site page, sees its
SHA-256 there, and downloads the very bytes back; a bad file is a form error on the page."""

import hashlib
from pathlib import Path

import pytest
from playwright.sync_api import expect

from sites.models import EssentialDocument

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


def test_upload_a_document_and_download_it(live_world, live_server, login, tmp_path):
    w = live_world
    page = login(w.cra.username)
    page.goto(f"{live_server.url}/sites/{w.site_a1.pk}/")
    page.locator("#site-documents summary", has_text="File a document").click()
    form = page.locator("#document-form")
    form.locator("select[name=kind]").select_option("other")
    form.locator("input[name=title]").fill("Signed CV of the PI")
    form.locator("select[name=status]").select_option("received")
    bad = tmp_path / "cv.pdf"
    bad.write_bytes(b"MZ\x90\x00 not a pdf")
    form.locator("input[name=file]").set_input_files(str(bad))
    form.locator("button[type=submit]").click()
    expect(page.locator("#document-form")).to_contain_text("not a file an essential document")
    assert not EssentialDocument.objects.filter(title="Signed CV of the PI").exists()

    good = tmp_path / "signed-cv.pdf"
    good.write_bytes(PDF)
    form = page.locator("#document-form")
    form.locator("select[name=kind]").select_option("other")
    form.locator("input[name=title]").fill("Signed CV of the PI")
    form.locator("select[name=status]").select_option("received")
    form.locator("input[name=file]").set_input_files(str(good))
    form.locator("button[type=submit]").click()
    digest = hashlib.sha256(PDF).hexdigest()
    row = page.locator("#document-table tr", has_text="Signed CV of the PI")
    expect(row).to_contain_text(digest)
    with page.expect_download() as download:
        row.locator("a.document-file").click()
    assert download.value.suggested_filename == "signed-cv.pdf"
    assert Path(download.value.path()).read_bytes() == PDF
