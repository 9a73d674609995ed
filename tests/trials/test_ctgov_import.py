"""Creating a trial from a ClinicalTrials.gov record: services, pages and the command."""

import json
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from croportal.exceptions import ApplicationError
from sites import registry_import
from sites.models import Site
from staffing.models import Assignment, Organisation, Role
from tests.conftest import need_service
from tests.factories import (
    AdminFactory,
    CroFactory,
    SponsorFactory,
    SponsorUserFactory,
    TrialFactory,
    crm_of,
)
from trials import services as trial_services
from trials.ctgov import importing as ctgov_import
from trials.ctgov.importing import ctgov_confirm, ctgov_preview, ctgov_run
from trials.models import CtgovImport, Milestone, Trial

pytestmark = pytest.mark.django_db

RECORDS = Path(settings.BASE_DIR).parent / "shared" / "data" / "ctgov-records"


def record_path(name: str) -> Path:
    need_service(RECORDS.exists(), f"needs the ClinicalTrials.gov sample records in {RECORDS}")
    path = next(RECORDS.glob(f"*/{name}"), None)
    assert path is not None, f"{name} is missing from {RECORDS}"
    return path


def preview(name: str, by) -> CtgovImport:
    path = record_path(name)
    return ctgov_preview(data=path.read_bytes(), filename=path.name, by=by)


def counts() -> dict:
    return {"trials": Trial.objects.count(), "sites": Site.objects.count(),
            "milestones": Milestone.objects.count(), "assignments": Assignment.objects.count(),
            "site history": Site.history.count(), "trial history": Trial.history.count(),
            "jobs": CtgovImport.objects.count()}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def importer(db):
    """A trial's CRM, who may also create trials."""
    crm = crm_of(TrialFactory())
    crm.user_permissions.add(Permission.objects.get(codename="add_trial"))
    return crm


@pytest.fixture
def sponsor_org(db):
    return SponsorFactory(name="Sponsor A")


# ----------------------------------------------------------------------------- the services

def test_preview_confirm_and_run_create_the_trial_milestones_and_sites(
        db, importer, django_capture_on_commit_callbacks):
    job = preview("NCT00023673.xml", importer)
    assert (job.state, job.nct_id, job.total, job.done) == ("preview", "NCT00023673", 41, 0)
    assert job.record["phase"] == "I/II"
    with django_capture_on_commit_callbacks() as queued:
        ctgov_confirm(job=job, by=importer, sponsor=None,
                      sponsor_name="Radiation Therapy Oncology Group", phase=None)
    assert len(queued) == 1  # the Celery task, published only once the transaction commits
    job.refresh_from_db()
    assert job.state == "queued"
    assert (job.sponsor.name, job.sponsor.kind) == ("Radiation Therapy Oncology Group",
                                                    "SPONSOR")

    trial = ctgov_run(job_id=job.pk)

    assert Trial.objects.filter(nct_id="NCT00023673").count() == 1
    trial.refresh_from_db()
    assert trial.protocol_number == "RTOG L-0117"
    assert trial.title.startswith("A Phase I/II Dose Intensification Study")
    assert (trial.phase, trial.status, trial.target_enrollment) == ("I/II", "completed", 63)
    assert trial.sponsor == job.sponsor
    assert (trial.indication, trial.investigational_product) == ("Lung Cancer", "carboplatin")
    milestones = {(m.kind, m.name): m for m in trial.milestones.all()}
    assert set(milestones) == {("fpi", ""), ("other", "Primary completion"), ("lpo", "")}
    fpi = milestones[("fpi", "")]
    assert fpi.baseline_date == fpi.planned_date == fpi.actual_date == date(2001, 7, 1)
    assert milestones[("lpo", "")].actual_date == date(2013, 11, 1)
    sites = list(trial.sites.order_by("number"))
    assert len(sites) == 41
    assert [s.number for s in sites[:3]] == ["001", "002", "003"]
    assert sites[-1].number == "041"
    assert {s.status for s in sites} == {"selected"}
    assert {s.target_enrollment for s in sites} == {0}
    calgary = next(s for s in sites if s.city == "Calgary")
    assert (calgary.institution, calgary.country) == ("Tom Baker Cancer Centre - Calgary", "CA")
    # The audit trail: who and why, for every site and milestone.
    reason = "Imported from ClinicalTrials.gov NCT00023673"
    site_history = Site.history.filter(trial_id=trial.pk)
    assert site_history.count() == 41
    assert set(site_history.values_list("history_change_reason", "history_user_id",
                                        "history_type")) == {(reason, importer.pk, "+")}
    milestone_history = Milestone.history.filter(trial_id=trial.pk)
    assert set(milestone_history.values_list("history_change_reason", "history_user_id")) == {
        (reason, importer.pk)}
    # The importer is the new trial's CRM; the job points at the trial.
    assert Assignment.objects.filter(user=importer, trial=trial, role=Role.CRM).exists()
    job.refresh_from_db()
    assert (job.state, job.trial, job.done, job.total, job.error) == ("done", trial, 41, 41, "")


def test_anticipated_dates_are_planned_and_a_missing_phase_must_be_chosen(sponsor_org, importer):
    job = preview("NCT06171568.json", importer)
    with pytest.raises(ApplicationError) as refused:
        ctgov_confirm(job=job, by=importer, sponsor=sponsor_org, phase=None)
    assert refused.value.field == "phase"
    job.refresh_from_db()
    assert job.state == "preview"
    ctgov_confirm(job=job, by=importer, sponsor=sponsor_org, phase="IV", enqueue=False)
    trial = ctgov_run(job_id=job.pk)
    assert (trial.phase, trial.status, trial.sponsor) == ("IV", "startup", sponsor_org)
    fpi = trial.milestones.get(kind="fpi")
    assert (fpi.baseline_date, fpi.planned_date, fpi.actual_date) == (
        date(2024, 2, 1), date(2024, 2, 1), None)
    assert trial.sites.get().country == "FR"


def test_the_same_record_again_is_refused_at_preview_and_creates_nothing(sponsor_org, importer):
    job = preview("NCT02210780.json", importer)
    ctgov_confirm(job=job, by=importer, sponsor=sponsor_org, phase=None, enqueue=False)
    trial = ctgov_run(job_id=job.pk)
    before = counts()
    with pytest.raises(ApplicationError) as refused:
        preview("NCT02210780.json", importer)
    assert refused.value.field == "file"
    assert refused.value.message == (
        f"NCT02210780 is already in the portal as trial {trial.protocol_number}.")
    assert counts() == before


def test_two_uploads_confirmed_before_either_ran_import_once(sponsor_org, importer):
    first = preview("NCT02210780.json", importer)
    second = preview("NCT02210780.json", importer)
    for job in (first, second):
        ctgov_confirm(job=job, by=importer, sponsor=sponsor_org, phase=None, enqueue=False)
    trial = ctgov_run(job_id=first.pk)
    assert ctgov_run(job_id=second.pk) is None
    second.refresh_from_db()
    assert second.state == "failed"
    assert f"already in the portal as trial {trial.protocol_number}" in second.error
    assert Trial.objects.filter(nct_id="NCT02210780").count() == 1
    assert Site.objects.filter(trial__nct_id="NCT02210780").count() == 42


def test_a_concurrent_import_losing_on_the_unique_nct_id_fails_cleanly(
        sponsor_org, importer, monkeypatch):
    job = preview("NCT02210780.json", importer)
    ctgov_confirm(job=job, by=importer, sponsor=sponsor_org, phase=None, enqueue=False)
    # Another upload's import commits between this one's check and its insert.
    monkeypatch.setattr(ctgov_import, "_refuse_known", lambda nct_id, field: None)
    # trial_create's own check would see the winner too: a true race passes both checks.
    monkeypatch.setattr(trial_services, "_check_unique", lambda fields, trial=None: None)
    winner = Trial.objects.create(protocol_number="WINNER-1", title="Imported elsewhere",
                                  sponsor=sponsor_org, phase="II", nct_id="NCT02210780")
    before = counts()
    assert ctgov_run(job_id=job.pk) is None
    job.refresh_from_db()
    assert job.state == "failed"
    assert job.error == ("NCT02210780 was imported at the same time by another upload, as "
                         f"trial {winner.protocol_number}; nothing was created by this one.")
    assert counts() == before


def test_a_failure_half_way_creates_nothing_and_marks_the_job_failed(
        sponsor_org, importer, settings, monkeypatch):
    settings.CTGOV_IMPORT_BATCH_SIZE = 10
    job = preview("NCT00023673.xml", importer)  # 41 sites: five batches
    ctgov_confirm(job=job, by=importer, sponsor=sponsor_org, phase=None, enqueue=False)
    real = registry_import.bulk_create_with_history
    calls = []

    def second_batch_fails(objs, model, **kwargs):
        calls.append(len(objs))
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(objs, model, **kwargs)

    monkeypatch.setattr(registry_import, "bulk_create_with_history", second_batch_fails)
    before = counts()
    assert ctgov_run(job_id=job.pk) is None
    assert calls == [10, 10]
    assert counts() == before  # no trial, site, milestone, assignment or history row
    assert not Trial.objects.filter(nct_id="NCT00023673").exists()
    job.refresh_from_db()
    assert (job.state, job.trial, job.done) == ("failed", None, 0)
    assert job.error == ("The import failed and nothing was created "
                         "(RuntimeError: disk full).")
    # A failed import is final: a redelivered message does not run it again.
    monkeypatch.setattr(registry_import, "bulk_create_with_history", real)
    assert ctgov_run(job_id=job.pk) is None
    assert counts() == before


def test_a_redelivered_task_does_not_import_twice(sponsor_org, importer):
    job = preview("NCT02210780.json", importer)
    ctgov_confirm(job=job, by=importer, sponsor=sponsor_org, phase=None, enqueue=False)
    trial = ctgov_run(job_id=job.pk)
    before = counts()
    assert ctgov_run(job_id=job.pk) == trial
    assert counts() == before


def test_an_unknown_country_location_is_skipped_and_the_others_imported(sponsor_org, importer):
    document = {"protocolSection": {
        "identificationModule": {"nctId": "NCT09999999", "briefTitle": "Atlantis study"},
        "designModule": {"phases": ["PHASE3"]},
        "contactsLocationsModule": {"locations": [
            {"facility": "Lost Clinic", "city": "Poseidonis", "country": "Atlantis"},
            {"facility": "Hôpital Nord", "city": "Marseille", "country": "France"},
        ]},
    }}
    job = ctgov_preview(data=json.dumps(document).encode(), filename="atlantis.json",
                        by=importer)
    assert job.total == 1
    ctgov_confirm(job=job, by=importer, sponsor=sponsor_org, phase=None, enqueue=False)
    trial = ctgov_run(job_id=job.pk)
    assert trial.protocol_number == "NCT09999999"  # no org study id: the NCT ID
    assert list(trial.sites.values_list("number", "institution", "country")) == [
        ("001", "Hôpital Nord", "FR")]


def test_sponsor_by_name_is_reused_whatever_its_case_and_never_a_cro(importer):
    regeneron = Organisation.objects.create(name="REGENERON PHARMACEUTICALS", kind="SPONSOR")
    job = preview("NCT02210780.json", importer)
    ctgov_confirm(job=job, by=importer, sponsor=None, sponsor_name="Regeneron Pharmaceuticals",
                  phase=None, enqueue=False)
    job.refresh_from_db()
    assert job.sponsor == regeneron
    assert Organisation.objects.filter(name__iexact="regeneron pharmaceuticals").count() == 1

    other = preview("NCT00023673.xml", importer)
    with pytest.raises(ApplicationError) as refused:
        ctgov_confirm(job=other, by=importer, sponsor=None, sponsor_name="test cro", phase=None)
    assert refused.value.field == "sponsor_name"
    assert "not a sponsor" in refused.value.message
    with pytest.raises(ApplicationError) as refused:
        ctgov_confirm(job=other, by=importer, sponsor=CroFactory(), phase=None)
    assert refused.value.field == "sponsor"
    with pytest.raises(ApplicationError) as refused:
        ctgov_confirm(job=other, by=importer, sponsor=None, sponsor_name="  ", phase=None)
    assert refused.value.field == "sponsor_name"
    other.refresh_from_db()
    assert other.state == "preview"


def test_the_org_study_id_already_used_falls_back_to_the_nct_id(sponsor_org, importer):
    Trial.objects.create(protocol_number="RTOG L-0117", title="Older", sponsor=sponsor_org,
                         phase="II")
    job = preview("NCT00023673.xml", importer)
    ctgov_confirm(job=job, by=importer, sponsor=sponsor_org, phase=None, enqueue=False)
    assert ctgov_run(job_id=job.pk).protocol_number == "NCT00023673"


# -------------------------------------------------------------------------------- the pages

def upload(client: Client, name: str, data: bytes | None = None):
    content = data if data is not None else record_path(name).read_bytes()
    return client.post("/trials/import/", {"file": SimpleUploadedFile(name, content)})


def test_upload_preview_confirm_and_progress_pages(
        sponsor_org, importer, django_capture_on_commit_callbacks):
    client = client_for(importer)
    trials = client.get("/trials/")
    assert 'id="ctgov-import-link"' in trials.content.decode()
    assert client.get("/trials/import/").status_code == 200
    response = upload(client, "NCT00081588.xml")  # 68 locations
    job = CtgovImport.objects.get(created_by=importer)
    assert response.status_code == 302
    assert response["Location"] == f"/trials/import/{job.pk}/"

    page = client.get(f"/trials/import/{job.pk}/").content.decode()
    assert "NCT00081588" in page
    assert "Phase II" in page
    assert "Completed" in page
    assert "+18 more" in page  # 50 rows shown of 68
    assert "<strong>68</strong> sites will be created" in page
    assert 'value="Tibotec Pharmaceuticals, Ireland"' in page  # new sponsor's name prefilled

    with django_capture_on_commit_callbacks() as queued:
        response = client.post(f"/trials/import/{job.pk}/", {
            "sponsor": sponsor_org.pk, "sponsor_name": "", "phase": "II"})
    assert response.status_code == 302
    assert response["Location"] == f"/trials/import/{job.pk}/progress/"
    assert len(queued) == 1
    progress = client.get(f"/trials/import/{job.pk}/progress/").content.decode()
    assert 'hx-trigger="every 1s"' in progress
    assert f'hx-get="/trials/import/{job.pk}/progress/bar/"' in progress

    trial = ctgov_run(job_id=job.pk)
    bar = client.get(f"/trials/import/{job.pk}/progress/bar/").content.decode()
    assert "100%" in bar
    assert "hx-trigger" not in bar  # finished: polling stops
    assert f'href="/trials/{trial.pk}/"' in bar
    # Back to the preview of a confirmed job: the progress page instead.
    assert client.get(f"/trials/import/{job.pk}/")["Location"].endswith("/progress/")


def test_an_existing_sponsor_is_preselected(importer):
    tibotec = Organisation.objects.create(name="Tibotec Pharmaceuticals, Ireland", kind="SPONSOR")
    client = client_for(importer)
    upload(client, "NCT00081588.xml")
    job = CtgovImport.objects.get(created_by=importer)
    page = client.get(f"/trials/import/{job.pk}/").content.decode()
    assert f'<option value="{tibotec.pk}" selected>' in page


def test_a_malformed_upload_is_a_form_error_and_creates_nothing(importer):
    before = counts()
    response = upload(client_for(importer), "NCT00000000.xml", b"<html><body>oops</body></html>")
    assert response.status_code == 200
    assert "root element is &lt;html&gt;, not &lt;clinical_study&gt;" in (
        response.content.decode())
    assert counts() == before


def test_a_record_already_imported_is_a_form_error(importer):
    TrialFactory(protocol_number="B-001", nct_id="NCT02210780")
    response = upload(client_for(importer), "NCT02210780.json")
    assert response.status_code == 200
    assert "NCT02210780 is already in the portal as trial B-001." in response.content.decode()
    assert not CtgovImport.objects.exists()


def test_a_missing_phase_is_a_form_error_on_the_preview(sponsor_org, importer):
    client = client_for(importer)
    upload(client, "NCT06171568.json")
    job = CtgovImport.objects.get()
    response = client.post(f"/trials/import/{job.pk}/", {
        "sponsor": sponsor_org.pk, "phase": ""})
    assert response.status_code == 200
    assert "The registry gives no phase for this study: choose one." in response.content.decode()
    job.refresh_from_db()
    assert job.state == "preview"


@pytest.mark.parametrize("persona", ["cra", "sponsor", "monitor", "outsider"])
def test_people_who_cannot_create_trials_get_403(world, importer, persona):
    job = preview("NCT02210780.json", importer)
    client = client_for(getattr(world, persona))
    assert client.get("/trials/import/").status_code == 403
    assert upload(client, "NCT02210780.json").status_code == 403
    for path in ("", "progress/", "progress/bar/"):
        assert client.get(f"/trials/import/{job.pk}/{path}").status_code == 403
    assert client.post(f"/trials/import/{job.pk}/", {
        "sponsor": world.sponsor_a.pk}).status_code == 403
    assert 'id="ctgov-import-link"' not in client.get("/trials/").content.decode()
    job.refresh_from_db()
    assert job.state == "preview"


def test_another_users_import_is_404_but_an_administrator_sees_it(sponsor_org, importer):
    job = preview("NCT02210780.json", importer)
    other_crm = crm_of(TrialFactory())
    other_crm.user_permissions.add(Permission.objects.get(codename="add_trial"))
    other = client_for(other_crm)
    for path in ("", "progress/", "progress/bar/"):
        assert other.get(f"/trials/import/{job.pk}/{path}").status_code == 404
    assert other.post(f"/trials/import/{job.pk}/", {
        "sponsor": sponsor_org.pk}).status_code == 404
    assert client_for(AdminFactory()).get(f"/trials/import/{job.pk}/").status_code == 200
    assert Client().get(f"/trials/import/{job.pk}/").status_code == 302  # to the log-in page


def test_the_progress_bar_shows_the_percentage_and_a_failure(importer):
    job = preview("NCT02210780.json", importer)
    CtgovImport.objects.filter(pk=job.pk).update(state="running", done=21, total=42)
    client = client_for(importer)
    bar = client.get(f"/trials/import/{job.pk}/progress/bar/").content.decode()
    assert "50%" in bar
    assert '<progress value="50" max="100"' in bar
    assert "21 of 42 sites" in bar
    assert 'hx-trigger="every 1s"' in bar
    CtgovImport.objects.filter(pk=job.pk).update(state="failed", done=0,
                                                 error="The import failed: disk full.")
    bar = client.get(f"/trials/import/{job.pk}/progress/bar/").content.decode()
    assert "The import failed: disk full." in bar
    assert "hx-trigger" not in bar


def test_the_preview_page_does_not_query_per_location(importer):
    client = client_for(importer)
    pages = {}
    for name in ("NCT00001177.xml", "NCT02465060.xml"):  # 1 location, 1,218 locations
        upload(client, name)
        job = CtgovImport.objects.get(nct_id=name[:11])
        client.get(f"/trials/import/{job.pk}/")  # warm the session and caches
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/trials/import/{job.pk}/")
        assert response.status_code == 200
        pages[name] = len(queries)
    assert pages["NCT00001177.xml"] == pages["NCT02465060.xml"]
    assert pages["NCT02465060.xml"] <= 15


# ---------------------------------------------------------------------------- the command

def test_command_imports_a_record_with_the_crm_as_importer(db):
    crm = crm_of(TrialFactory(), username="crm_a")
    out = StringIO()
    call_command("import_ctgov", str(record_path("NCT02481830.xml")), "--crm", "crm_a",
                 stdout=out)
    trial = Trial.objects.get(nct_id="NCT02481830")
    assert out.getvalue().strip() == (
        "Imported NCT02481830 as trial CA209-331 with 149 sites (0 locations skipped).")
    assert trial.sponsor.name == "Bristol-Myers Squibb"
    assert trial.sites.count() == 149
    assert trial.sites.filter(country="KR").exists()
    assert Assignment.objects.filter(user=crm, trial=trial, role=Role.CRM).exists()
    job = CtgovImport.objects.get(nct_id="NCT02481830")
    assert (job.state, job.created_by, job.trial) == ("done", crm, trial)


def test_command_sponsor_option_picks_an_existing_sponsor(sponsor_org):
    admin = AdminFactory()
    out = StringIO()
    call_command("import_ctgov", str(record_path("NCT02210780.json")), "--sponsor", "sponsor a",
                 stdout=out)
    trial = Trial.objects.get(nct_id="NCT02210780")
    assert trial.sponsor == sponsor_org
    assert not Organisation.objects.filter(name="Regeneron Pharmaceuticals").exists()
    assert CtgovImport.objects.get().created_by == admin  # the first superuser
    assert "with 42 sites" in out.getvalue()


def test_command_refuses_a_malformed_file_and_creates_nothing(db, tmp_path):
    AdminFactory()  # who the command imports as without --crm
    SponsorUserFactory(username="sponsor_viewer_a")
    bad = tmp_path / "NCT01234567.json"
    bad.write_bytes(b'{"protocolSection": {"identificationModule": {"nctId": "NCT0')
    before = counts()
    organisations = Organisation.objects.count()
    with pytest.raises(CommandError, match="is not valid JSON"):
        call_command("import_ctgov", str(bad))
    with pytest.raises(CommandError, match="no phase for this study"):
        call_command("import_ctgov", str(record_path("NCT06171568.json")))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_ctgov", str(tmp_path / "missing.xml"))
    with pytest.raises(CommandError, match="not CRO staff"):
        call_command("import_ctgov", str(record_path("NCT02210780.json")), "--crm",
                     "sponsor_viewer_a")
    assert counts() == before
    assert Organisation.objects.count() == organisations
