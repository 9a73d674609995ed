"""A ClinicalTrials.gov record with NUL, lone surrogates, a 5,000-digit number, deep nesting or an
absurd date is refused with a clear message (upload page: a form error; command: CommandError)
and creates nothing; it used to be a server error or a crash."""

import json

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client

from sites.models import Site
from tests.factories import AdminFactory, SponsorFactory, TrialFactory, crm_of
from trials.ctgov import CtgovError, parse_record
from trials.models import CtgovImport, Milestone, Trial

XML_HEAD = b"<clinical_study><id_info><nct_id>NCT01234567</nct_id></id_info>"


def study(**modules) -> dict:
    return {"protocolSection": {
        "identificationModule": {"nctId": "NCT01234567", "briefTitle": "A small study"},
        **modules}}


def raw_study(title_json: str) -> bytes:
    """A study whose brief title is the raw JSON text given (escapes kept as written)."""
    return ('{"protocolSection": {"identificationModule": {"nctId": "NCT01234567", '
            f'"briefTitle": {title_json}}}}}}}').encode()


HOSTILE = {
    "NUL in a string": (raw_study('"A\\u0000B"'), "NUL characters"),
    "a lone surrogate": (raw_study('"A\\ud800B"'), "unpaired surrogates"),
    "a NUL in a key": (b'{"protocolSection": {"a\\u0000": 1}}', "NUL characters"),
    "a 5,000-digit number": (
        json.dumps(study(designModule={"enrollmentInfo": {"count": 0}})).replace(
            '"count": 0', '"count": ' + "9" * 5000).encode(),
        "more than 4300 digits"),
    "a 4,000-digit enrollment": (
        json.dumps(study(designModule={"enrollmentInfo": {"count": int("9" * 4000)}})).encode(),
        "not a plausible number of participants"),
    "an enrollment beyond any database integer": (
        json.dumps(study(designModule={"enrollmentInfo": {"count": 2**31}})).encode(),
        "not a plausible number of participants"),
    "deep JSON nesting": (raw_study("[" * 100_000 + "]" * 100_000), "nested deeper than 64"),
    "a start date in year 1": (
        json.dumps(study(statusModule={"startDateStruct": {"date": "0001-01-01"}})).encode(),
        "Dates must lie between 1900-01-01 and 2199-12-31."),
    "a completion date in 9999": (
        json.dumps(study(statusModule={"completionDateStruct": {"date": "9999-12-31"}})).encode(),
        "Dates must lie between 1900-01-01 and 2199-12-31."),
    "a last update in 9999": (
        json.dumps(study(statusModule={"lastUpdatePostDateStruct": {"date": "9999-12"}})).encode(),
        "Dates must lie between"),
    "a 5,000-digit XML enrollment": (
        XML_HEAD + b"<enrollment>" + b"9" * 5000 + b"</enrollment></clinical_study>",
        "not a plausible number of participants"),
    "an XML date in year 1": (
        XML_HEAD + b"<start_date>January 1, 0001</start_date></clinical_study>",
        "Dates must lie between"),
    "deep XML nesting": (
        b"<clinical_study>" + b"<a>" * 100_000 + b"</a>" * 100_000 + b"</clinical_study>",
        "nested deeper than 64"),
    "an XML NUL reference": (XML_HEAD + b"<brief_title>A&#0;B</brief_title></clinical_study>",
                             "not well-formed XML"),
    "an XML surrogate reference": (
        XML_HEAD + b"<brief_title>A&#xD800;B</brief_title></clinical_study>",
        "not well-formed XML"),
}


@pytest.mark.parametrize("shape", HOSTILE)
def test_a_hostile_record_is_refused_with_a_clear_message(shape):
    data, message = HOSTILE[shape]
    with pytest.raises(CtgovError) as refused:
        parse_record(data, "study.json")
    assert message in refused.value.message


def test_dates_at_the_ends_of_the_portal_range_are_read():
    document = study(statusModule={"startDateStruct": {"date": "1900-01-01"},
                                   "completionDateStruct": {"date": "2199-12"}})
    record = parse_record(json.dumps(document).encode(), "study.json")
    assert (record.start_date.value.isoformat(), record.completion_date.value.isoformat()) == (
        "1900-01-01", "2199-12-01")


def counts() -> dict:
    return {"trials": Trial.objects.count(), "sites": Site.objects.count(),
            "milestones": Milestone.objects.count(), "jobs": CtgovImport.objects.count()}


@pytest.mark.parametrize("shape", ["NUL in a string", "a lone surrogate", "a 5,000-digit number",
                                   "deep JSON nesting", "a completion date in 9999"])
def test_the_upload_page_shows_a_form_error_and_creates_nothing(db, shape):
    crm = crm_of(TrialFactory())
    crm.user_permissions.add(Permission.objects.get(codename="add_trial"))
    client = Client()
    client.force_login(crm)
    data, message = HOSTILE[shape]
    before = counts()
    response = client.post("/trials/import/", {"file": SimpleUploadedFile("study.json", data)})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert counts() == before


@pytest.mark.parametrize("shape", ["NUL in a string", "a lone surrogate", "a 5,000-digit number",
                                   "deep XML nesting", "an XML date in year 1"])
def test_the_command_raises_command_error_and_creates_nothing(db, tmp_path, shape):
    AdminFactory()  # who the command imports as
    data, message = HOSTILE[shape]
    path = tmp_path / "study.json"
    path.write_bytes(data)
    before = counts()
    with pytest.raises(CommandError, match=message[:20]):
        call_command("import_ctgov", str(path))
    assert counts() == before


def test_the_command_stores_a_file_name_that_is_not_utf8(db, tmp_path):
    """A file name of non-UTF-8 bytes comes to Python as lone surrogates, which PostgreSQL
    cannot store; the job keeps a readable name instead."""
    AdminFactory()  # who the command imports as
    SponsorFactory(name="Sponsor A")
    path = tmp_path / "study-\udcff.json"
    path.write_bytes(json.dumps(study()).encode())
    with pytest.raises(CommandError, match="no phase"):
        call_command("import_ctgov", str(path))  # refused at the confirm: nothing kept
    assert CtgovImport.objects.count() == 0
    call_command("import_ctgov", str(path), "--phase", "II", "--sponsor", "Sponsor A")
    assert CtgovImport.objects.get().filename == "study-?.json"
