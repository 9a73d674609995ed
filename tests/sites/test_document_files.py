"""Essential documents carry their files (issue 12.4): sniffed, size-limited, SHA-256 recorded
and shown, kept in the documents storage and handed out only to readers of the site, by the
page and the API alike; a new version keeps the old file; the file is in the audit trail."""

import hashlib
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from croportal.exceptions import ApplicationError
from sites.models import EssentialDocument
from sites.services import document_create, document_update
from sites.services.document_files import as_upload
from tests.conftest import api_as
from tests.factories import SiteFactory, TrialFactory, sponsor_viewer_of

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    return buffer.getvalue()


@pytest.fixture
def site(trial):
    return SiteFactory(trial=trial, activated=True)


@pytest.fixture
def sponsor_viewer(trial):
    return sponsor_viewer_of(trial)


@pytest.fixture
def outsider(db):
    """A sponsor viewer of another sponsor's trial."""
    return sponsor_viewer_of(TrialFactory())


def upload(data: bytes, name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def file_body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.mark.parametrize(("data", "name", "content_type"), [
    (PDF, "cv.pdf", "application/pdf"),
    (PNG, "scan.png", "image/png"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 20, "scan.JPG", "image/jpeg"),
    (docx(), "log.docx",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 20, "old.xls", "application/vnd.ms-excel"),
    ("Delegation log: Dr Müller\n".encode(), "log.txt", "text/plain"),
])
def test_accepted_files_are_kept_with_their_sha256(site, cra, data, name, content_type):
    document = document_create(site=site, by=cra, kind="other", status="received",
                               file=as_upload(data=data, name=name))
    document.refresh_from_db()
    assert document.file_sha256 == hashlib.sha256(data).hexdigest()
    assert (document.file_name, document.file_size, document.file_type) == (
        name, len(data), content_type)
    with document.file.open("rb") as stored:
        assert stored.read() == data


@pytest.mark.parametrize(("data", "name", "why"), [
    (b"MZ\x90\x00 an executable", "cv.pdf", "not a file an essential document may be"),
    (PDF, "cv.exe", "not a file an essential document may be"),
    (PNG, "scan.pdf", "not a file an essential document may be"),  # content and name disagree
    (b"PK\x03\x04 not really a zip", "log.docx", "not a file an essential document may be"),
    (b"<html>\x00\x01binary</html>", "notes.txt", "not a file an essential document may be"),
    (b"", "empty.pdf", "The file is empty"),
])
def test_other_files_are_refused_on_file_and_nothing_is_kept(site, cra, data, name, why):
    with pytest.raises(ApplicationError) as refused:
        document_create(site=site, by=cra, kind="other", status="received",
                        file=as_upload(data=data, name=name))
    assert refused.value.field == "file"
    assert why in str(refused.value)
    assert not EssentialDocument.objects.filter(site=site, kind="other").exists()


def test_a_file_over_the_size_limit_is_refused(site, cra, settings):
    settings.DOCUMENT_MAX_BYTES = 1024
    with pytest.raises(ApplicationError) as refused:
        document_create(site=site, by=cra, kind="other", status="received",
                        file=as_upload(data=PDF + b" " * 1024, name="big.pdf"))
    assert refused.value.field == "file"
    assert "the limit is 1.0\xa0KB" in str(refused.value)


def test_a_path_in_the_name_is_dropped(site, cra):
    document = document_create(site=site, by=cra, kind="other", status="received",
                               file=as_upload(data=PDF, name="../../etc/cv.pdf"))
    assert document.file_name == "cv.pdf"
    assert ".." not in document.file.name
    assert document.file.name.startswith(f"site-{site.pk}/")


def test_a_new_version_keeps_the_old_file_and_a_file_is_never_replaced(site, cra):
    first = document_create(site=site, by=cra, kind="investigator_cv", version="1",
                            status="received", file=as_upload(data=PDF, name="cv.pdf"))
    second_bytes = PDF.replace(b"Catalog", b"Catalog2")
    second = document_create(site=site, by=cra, kind="investigator_cv", version="2",
                             status="received", file=as_upload(data=second_bytes, name="cv.pdf"))
    assert first.file.name != second.file.name
    with pytest.raises(ApplicationError) as refused:
        document_update(document=first, by=cra, reason="Swap", file=as_upload(data=second_bytes,
                                                                              name="cv.pdf"))
    assert refused.value.field == "file"
    first.refresh_from_db()
    with first.file.open("rb") as stored:
        assert stored.read() == PDF
    assert first.file_sha256 == hashlib.sha256(PDF).hexdigest()


def test_a_requested_document_takes_its_file_once_and_the_audit_trail_records_it(site, cra):
    document = document_create(site=site, by=cra, kind="insurance", status="requested")
    document_update(document=document, by=cra, reason="Certificate arrived", status="received",
                    file=as_upload(data=PDF, name="insurance.pdf"))
    last = document.history.order_by("-history_id").first()
    assert last.file_name == "insurance.pdf"
    assert last.file_sha256 == hashlib.sha256(PDF).hexdigest()
    assert last.history_change_reason == "Certificate arrived"


def test_the_audit_trail_page_shows_the_file_name_and_sha256(site, cra, client):
    document = document_create(site=site, by=cra, kind="other", status="received",
                               file=as_upload(data=PDF, name="cv.pdf"))
    client.force_login(cra)
    page = client.get(f"/audit/essential-document/{document.pk}/").content.decode()
    assert "cv.pdf" in page
    assert hashlib.sha256(PDF).hexdigest() in page


# ---------------------------------------------------------------------------- the API door

def test_the_api_files_a_document_with_its_file_and_hands_it_back(site, cra, sponsor_viewer):
    response = api_as(cra).post("/api/v1/essential-documents/", {
        "site": site.pk, "kind": "other", "status": "received",
        "file": upload(PDF, "cv.pdf")}, format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["file_sha256"] == hashlib.sha256(PDF).hexdigest()
    assert body["file_name"] == "cv.pdf"
    assert body["file_url"] == f"/api/v1/essential-documents/{body['id']}/file/"
    assert "file" not in body  # the storage path is nobody's business
    download = api_as(sponsor_viewer).get(body["file_url"])
    assert download.status_code == 200
    assert file_body(download) == PDF
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"


def test_the_api_refuses_a_bad_file_with_a_400_on_file(site, cra):
    response = api_as(cra).post("/api/v1/essential-documents/", {
        "site": site.pk, "kind": "other", "status": "received",
        "file": upload(b"#!/bin/sh\nrm -rf /\n", "cv.pdf")}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()
    assert not EssentialDocument.objects.filter(site=site, kind="other").exists()


def test_a_json_file_value_is_a_400_not_a_crash(site, cra):
    response = api_as(cra).post("/api/v1/essential-documents/", {
        "site": site.pk, "kind": "other", "status": "received", "file": {"a": [{"b": "x"}]}},
        format="json")
    assert response.status_code == 400
    assert "file" in response.json()


def test_outsiders_get_a_404_for_the_file(site, cra, outsider):
    document = document_create(site=site, by=cra, kind="other", status="received",
                               file=as_upload(data=PDF, name="cv.pdf"))
    assert api_as(outsider).get(
        f"/api/v1/essential-documents/{document.pk}/file/").status_code == 404


# --------------------------------------------------------------------------- the page door

def test_the_site_page_uploads_shows_the_sha256_and_downloads(site, cra, client):
    client.force_login(cra)
    page = client.get(f"/sites/{site.pk}/").content.decode()
    assert 'enctype="multipart/form-data"' in page
    response = client.post(f"/sites/{site.pk}/documents/new/", {
        "kind": "other", "title": "Signed CV", "status": "received",
        "file": upload(PDF, "cv.pdf")})
    assert response.status_code == 302
    document = EssentialDocument.objects.get(site=site, kind="other")
    page = client.get(f"/sites/{site.pk}/").content.decode()
    assert hashlib.sha256(PDF).hexdigest() in page
    assert f"/sites/documents/{document.pk}/file/" in page
    download = client.get(f"/sites/documents/{document.pk}/file/")
    assert download.status_code == 200
    assert file_body(download) == PDF
    listing = client.get(f"/sites/{site.pk}/documents/").content.decode()
    assert hashlib.sha256(PDF).hexdigest() in listing
    export = client.get(f"/sites/{site.pk}/documents/", {"export": "csv"})
    assert hashlib.sha256(PDF).hexdigest() in b"".join(export.streaming_content).decode()


def test_the_page_shows_a_bad_file_as_a_form_error(site, cra, client):
    client.force_login(cra)
    response = client.post(f"/sites/{site.pk}/documents/new/", {
        "kind": "other", "status": "received", "file": upload(b"MZ\x90", "cv.pdf")})
    assert response.status_code == 200  # the form again, as every refused form of the portal
    assert "not a file an essential document may be" in response.content.decode()
    assert not EssentialDocument.objects.filter(site=site, kind="other").exists()


def test_no_public_media_url_serves_the_files(site, cra, client):
    document = document_create(site=site, by=cra, kind="other", status="received",
                               file=as_upload(data=PDF, name="cv.pdf"))
    client.force_login(cra)
    assert client.get(f"/media/{document.file.name}").status_code == 404
    assert client.get(f"/{document.file.name}").status_code == 404
