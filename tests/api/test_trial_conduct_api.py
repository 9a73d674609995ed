"""The REST API of running a trial: trial and site lifecycles (transition, checklist),
milestones, essential documents, subject screening, transitions and consent, enrollment —
behaviour, clear 400s that change nothing, and bounded queries (1 row vs 50)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from croportal.exceptions import ApplicationError
from sites.models import ConsentRecord, EssentialDocument, Site, Subject
from sites.services import (
    consent_record,
    document_create,
    site_consent_version_add,
    subject_create,
)
from tests.conftest import api_as
from trials.models import Milestone, Trial
from trials.services import consent_version_create, milestone_create

pytestmark = pytest.mark.django_db


def today() -> str:
    return timezone.localdate().isoformat()


def test_trial_transition_endpoint_and_allowed_transitions(world):
    api = api_as(world.crm)
    trial = api.get(f"/api/v1/trials/{world.trial_a.pk}/").json()
    assert trial["allowed_transitions"] == ["startup", "terminated"]
    bad = api.post(f"/api/v1/trials/{world.trial_a.pk}/transition/",
                   {"status": "completed", "change_reason": "Skip"}, format="json")
    assert bad.status_code == 400
    assert "status" in bad.json()
    assert api.post(f"/api/v1/trials/{world.trial_a.pk}/transition/",
                    {"status": "startup"}, format="json").json() == {
        "change_reason": ["This field is required."]}
    ok = api.post(f"/api/v1/trials/{world.trial_a.pk}/transition/",
                  {"status": "startup", "change_reason": "Submissions made"}, format="json")
    assert ok.status_code == 200
    assert ok.json()["status"] == "startup"
    # PATCH of the status goes through the same rules.
    patched = api.patch(f"/api/v1/trials/{world.trial_a.pk}/",
                        {"status": "completed", "change_reason": "Done?"}, format="json")
    assert patched.status_code == 400
    assert Trial.objects.get(pk=world.trial_a.pk).status == "startup"


def test_milestones_api(world):
    api = api_as(world.crm)
    created = api.post("/api/v1/milestones/", {"trial": world.trial_a.pk, "kind": "lpi",
                                                 "planned_date": "2027-03-31"}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["baseline_date"] == "2027-03-31"
    assert body["slippage_days"] == 0
    url = f"/api/v1/milestones/{body['id']}/"
    assert api.patch(url, {"planned_date": "2027-04-30"}, format="json").status_code == 400
    moved = api.patch(url, {"planned_date": "2027-04-30", "change_reason": "Slow start"},
                      format="json")
    assert moved.json()["slippage_days"] == 30
    twice = api.post("/api/v1/milestones/", {"trial": world.trial_a.pk, "kind": "lpi"},
                     format="json")
    assert twice.status_code == 400
    assert "kind" in twice.json()
    bad_kind = api.post("/api/v1/milestones/", {"trial": world.trial_a.pk, "kind": "moon"},
                        format="json")
    assert bad_kind.status_code == 400
    assert "kind" in bad_kind.json()
    assert Milestone.objects.filter(trial=world.trial_a, kind="lpi").count() == 1
    listed = api.get(f"/api/v1/milestones/?trial={world.trial_a.pk}").json()
    assert {m["kind"] for m in listed["results"]} == {"protocol_final", "lpi"}


def test_site_checklist_and_transition_endpoints(world):
    crm, cra = api_as(world.crm), api_as(world.cra)
    site = world.site_a2  # identified, no documents
    checklist = crm.get(f"/api/v1/sites/{site.pk}/checklist/").json()
    assert checklist["complete"] is False
    assert checklist["allowed_transitions"] == ["qualified", "closed"]
    assert {i["key"] for i in checklist["items"]} >= {"document:form_fda_1572", "contract",
                                                      "initiation_visit"}
    for to in ("qualified", "selected", "initiated"):
        response = crm.post(f"/api/v1/sites/{site.pk}/transition/",
                            {"status": to, "change_reason": "Progress"}, format="json")
        assert response.status_code == 200, response.json()
    refused = crm.post(f"/api/v1/sites/{site.pk}/transition/",
                       {"status": "active", "change_reason": "Go"}, format="json")
    assert refused.status_code == 400
    assert "checklist is not complete" in refused.json()["status"][0]
    assert Site.objects.get(pk=site.pk).status == "initiated"
    # The CRA of site_a1 changes its documents but not its status (PATCH or transition);
    # nobody moves a status by PATCH (400 pointing at transition/).
    own = world.site_a1
    assert cra.post(f"/api/v1/sites/{own.pk}/transition/",
                    {"status": "on_hold", "change_reason": "x"}, format="json").status_code == 403
    refused = cra.patch(f"/api/v1/sites/{own.pk}/", {"status": "on_hold", "change_reason": "x"},
                        format="json")
    assert refused.status_code == 400
    assert "transition" in refused.json()["status"][0]
    assert Site.objects.get(pk=own.pk).status == "active"
    assert cra.patch(f"/api/v1/sites/{own.pk}/", {"city": "Bonn", "change_reason": "Moved"},
                     format="json").status_code == 200


def test_documents_api(world):
    cra = api_as(world.cra)
    created = cra.post("/api/v1/essential-documents/", {
        "site": world.site_a1.pk, "kind": "lab_certification", "version": "2026",
        "effective_on": today(), "expires_on": "2028-01-01", "status": "received"},
        format="json")
    assert created.status_code == 201
    assert created.json()["is_current"] is False
    approved = api_as(world.crm).patch(
        f"/api/v1/essential-documents/{created.json()['id']}/",
        {"status": "approved", "change_reason": "Reviewed"}, format="json")
    assert approved.status_code == 200, approved.json()
    assert approved.json()["is_current"] is True
    assert approved.json()["reviewed_by"] == world.crm.pk
    backwards = cra.post("/api/v1/essential-documents/", {
        "site": world.site_a1.pk, "kind": "investigator_cv", "effective_on": today(),
        "expires_on": today(), "status": "received"}, format="json")
    assert backwards.status_code == 400
    assert "expires_on" in backwards.json()
    url = f"/api/v1/essential-documents/{created.json()['id']}/"
    assert cra.patch(url, {"version": "x"}, format="json").status_code == 400
    assert EssentialDocument.objects.filter(site=world.site_a1, kind="investigator_cv",
                                            effective_on=timezone.localdate()).count() == 0


def test_subject_screening_transition_and_consent_api(world):
    cra = api_as(world.cra)
    screened = cra.post("/api/v1/subjects/", {
        "site": world.site_a1.pk, "number": "101-050", "consent_version": world.icf_a.pk,
        "consented_on": today()}, format="json")
    assert screened.status_code == 201, screened.json()
    subject = screened.json()
    assert subject["status"] == "screening"
    assert subject["consent_version"] == "1.0"
    url = f"/api/v1/subjects/{subject['id']}/"
    assert cra.post(url + "transition/", {"status": "enrolled"}, format="json").json() == {
        "on": ["This field is required."]}
    enrolled = cra.post(url + "transition/", {"status": "enrolled", "on": today()},
                        format="json")
    assert enrolled.json()["enrolled_on"] == today()
    no_reason = cra.post(url + "transition/", {"status": "withdrawn", "on": today()},
                         format="json")
    assert no_reason.status_code == 400
    assert "withdrawal_reason" in no_reason.json()
    assert Subject.objects.get(pk=subject["id"]).status == "enrolled"
    v2 = consent_version_create(trial=world.trial_a, by=world.crm, version="2.0")
    site_consent_version_add(site=world.site_a1, consent_version=v2, by=world.crm,
                             ethics_approved_on=timezone.localdate(),
                             effective_on=timezone.localdate())
    consented = cra.post(url + "consent/", {"consent_version": v2.pk, "consented_on": today(),
                                            "obtained_by": "PI"}, format="json")
    assert consented.status_code == 201
    assert consented.json()["is_reconsent"] is True
    records = cra.get(f"/api/v1/consent-records/?subject={subject['id']}").json()
    assert [r["consent_version_label"] for r in records["results"]] == ["1.0", "2.0"]
    # Pseudonymous numbers only: a name is refused and nothing is created.
    named = cra.post("/api/v1/subjects/", {
        "site": world.site_a1.pk, "number": "Jane Doe", "consent_version": world.icf_a.pk,
        "consented_on": today()}, format="json")
    assert named.status_code == 400
    assert "number" in named.json()
    assert not Subject.objects.filter(number="Jane Doe").exists()


def test_enrollment_endpoint(world):
    milestone_create(trial=world.trial_a, by=world.crm, kind="fpi",
                     planned_date=timezone.localdate() - timedelta(days=100))
    milestone_create(trial=world.trial_a, by=world.crm, kind="lpi",
                     planned_date=timezone.localdate() + timedelta(days=100))
    body = api_as(world.cra).get(f"/api/v1/trials/{world.trial_a.pk}/enrollment/").json()
    assert body["enrolled"] == 1
    assert body["target"] == 100
    assert body["planned_to_date"] == 50.0
    assert [s["number"] for s in body["sites"]] == ["101"]  # the CRA's own site only
    assert body["forecast"]["method"] == "pooled"
    low, high = body["forecast"]["interval_90"]
    assert low <= body["forecast"]["median_date"] <= high
    assert api_as(world.outsider).get(
        f"/api/v1/trials/{world.trial_a.pk}/enrollment/").status_code == 404


# --------------------------------------------------------------------------- bounded queries

def count(api, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = api.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(ctx.captured_queries)


def grow(world, n: int) -> None:
    """n more milestones, documents, subjects and consent records (and one more ICF version
    approved at the site) on trial A / site_a1."""
    v = consent_version_create(trial=world.trial_a, by=world.crm, version=f"g{n}")
    site_consent_version_add(site=world.site_a1, consent_version=v, by=world.crm,
                             ethics_approved_on=timezone.localdate(),
                             effective_on=timezone.localdate() + timedelta(days=1))
    for i in range(n):
        milestone_create(trial=world.trial_a, by=world.crm, kind="other", name=f"M{n}-{i}",
                         planned_date=timezone.localdate() + timedelta(days=i))
        document_create(site=world.site_a1, by=world.cra, kind="other", version=f"{n}-{i}",
                        status="received")
        subject = subject_create(site=world.site_a1, by=world.admin, number=f"G{n}-{i}",
                                 status="enrolled",
                                 enrolled_on=timezone.localdate() - timedelta(days=i))
        ConsentRecord.objects.create(subject=subject, consent_version=world.icf_a,
                                     consented_on=timezone.localdate())


URLS = [
    "/api/v1/milestones/", "/api/v1/amendments/", "/api/v1/consent-versions/",
    "/api/v1/essential-documents/", "/api/v1/site-consent-versions/",
    "/api/v1/consent-records/", "/api/v1/subjects/", "/api/v1/sites/", "/api/v1/trials/",
]


@pytest.mark.parametrize("url", URLS)
def test_lists_run_a_fixed_number_of_queries(world, url):
    api = api_as(world.cra)
    grow(world, 1)
    small = count(api, url)
    grow(world, 50)
    assert count(api, url) == small


def test_enrollment_and_checklist_run_a_fixed_number_of_queries(world):
    api = api_as(world.crm)
    enrollment = f"/api/v1/trials/{world.trial_a.pk}/enrollment/"
    checklist = f"/api/v1/sites/{world.site_a1.pk}/checklist/"
    grow(world, 1)
    small = (count(api, enrollment), count(api, checklist))
    grow(world, 50)
    assert (count(api, enrollment), count(api, checklist)) == small


def test_consent_record_to_a_version_twice_is_refused(world):
    response = api_as(world.cra).post(f"/api/v1/subjects/{world.subject_a1.pk}/consent/", {
        "consent_version": world.icf_a.pk, "consented_on": today()}, format="json")
    assert response.status_code == 400
    assert "consent_version" in response.json()
    assert ConsentRecord.objects.filter(subject=world.subject_a1).count() == 1
    with pytest.raises(ApplicationError, match="already signed"):
        consent_record(subject=world.subject_a1, consent_version=world.icf_a,
                       consented_on=timezone.localdate(), by=world.cra)
