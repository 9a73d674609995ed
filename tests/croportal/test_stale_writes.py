"""A write based on an outdated read is refused with a clear message, never applied over
someone else's change: ETag / If-Match in the API (412), a hidden revision in forms (409)."""

from datetime import date

import pytest
from django.urls import reverse

from sites.models import EssentialDocument, Site
from tests.conftest import api_as
from tests.factories import (
    EssentialDocumentFactory,
    MilestoneFactory,
)
from trials.models import Milestone, Trial


@pytest.fixture
def milestone(trial):
    return MilestoneFactory(trial=trial, kind="protocol_final", planned_date=date(2026, 1, 15),
                            actual_date=date(2026, 1, 20))


@pytest.fixture
def document(site):
    """Version 1 of the site's delegation log, received, not yet reviewed."""
    return EssentialDocumentFactory(site=site, kind="delegation_log", version="1")


def test_a_record_is_read_with_its_etag_and_written_with_if_match(crm, trial):
    client = api_as(crm)
    url = f"/api/v1/trials/{trial.pk}/"
    read = client.get(url)
    assert read["ETag"] == f'"{read.json()["revision"]}"'
    written = client.patch(url, {"title": "New", "change_reason": "R"}, format="json",
                           HTTP_IF_MATCH=read["ETag"])
    assert written.status_code == 200
    assert written["ETag"] == f'"{read.json()["revision"] + 1}"'


def test_a_stale_if_match_is_a_412_and_changes_nothing(crm, trial):
    client = api_as(crm)
    url = f"/api/v1/trials/{trial.pk}/"
    etag = client.get(url)["ETag"]
    client.patch(url, {"title": "First", "change_reason": "R"}, format="json")
    rows = Trial.history.filter(id=trial.pk).count()
    stale = client.patch(url, {"indication": "Later", "change_reason": "R"}, format="json",
                         HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert "changed by someone else" in stale.json()["revision"][0]
    trial = Trial.objects.get(pk=trial.pk)
    assert (trial.title, trial.indication) == ("First", "")
    assert Trial.history.filter(id=trial.pk).count() == rows


def test_a_malformed_if_match_is_a_400(crm, trial):
    response = api_as(crm).patch(f"/api/v1/trials/{trial.pk}/",
                                 {"title": "X", "change_reason": "R"}, format="json",
                                 HTTP_IF_MATCH="yesterday")
    assert response.status_code == 400
    assert "If-Match" in response.json()


def test_transitions_and_other_records_honour_if_match(crm, site, milestone, document):
    client = api_as(crm)
    site_url = f"/api/v1/sites/{site.pk}/"
    etag = client.get(site_url)["ETag"]
    client.patch(site_url, {"city": "Bonn", "change_reason": "Moved"}, format="json")
    stale = client.post(f"{site_url}transition/", {"status": "qualified", "change_reason": "Go"},
                        format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert Site.objects.get(pk=site.pk).status == site.status
    milestone_url = f"/api/v1/milestones/{milestone.pk}/"
    etag = client.get(milestone_url)["ETag"]
    client.patch(milestone_url, {"name": "x", "change_reason": "R"}, format="json")
    assert client.patch(milestone_url, {"planned_date": "2026-02-01", "change_reason": "R"},
                        format="json", HTTP_IF_MATCH=etag).status_code == 412
    assert Milestone.objects.get(pk=milestone.pk).planned_date.isoformat() == \
        "2026-01-15"
    document_url = f"/api/v1/essential-documents/{document.pk}/"
    etag = client.get(document_url)["ETag"]
    client.patch(document_url, {"title": "T", "change_reason": "R"}, format="json")
    assert client.patch(document_url, {"version": "9", "change_reason": "R"}, format="json",
                        HTTP_IF_MATCH=etag).status_code == 412
    assert EssentialDocument.objects.get(pk=document.pk).version == "1"


def test_a_stale_edit_form_is_a_409_with_the_message(crm, trial, client):
    client.force_login(crm)
    url = reverse("trials:edit", args=[trial.pk])
    form = client.get(url).context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    assert data["revision"] == trial.revision
    api_as(crm).patch(f"/api/v1/trials/{trial.pk}/",
                      {"title": "Meanwhile", "change_reason": "First"}, format="json")
    response = client.post(url, {**data, "title": "Mine", "change_reason": "Second"})
    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode()
    assert Trial.objects.get(pk=trial.pk).title == "Meanwhile"


def test_a_stale_transition_form_is_refused(crm, trial, client):
    client.force_login(crm)
    revision = Trial.objects.get(pk=trial.pk).revision
    api_as(crm).patch(f"/api/v1/trials/{trial.pk}/",
                      {"title": "Meanwhile", "change_reason": "First"}, format="json")
    response = client.post(reverse("trials:transition", args=[trial.pk]), {
        "status": "startup", "change_reason": "Go", "revision": revision})
    assert response.status_code == 409
    assert Trial.objects.get(pk=trial.pk).status == "planning"
