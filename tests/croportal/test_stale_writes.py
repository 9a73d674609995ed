"""A write based on an outdated read is refused with a clear message, never applied over
someone else's change: ETag / If-Match in the API (412), a hidden revision in forms (409)."""

from django.urls import reverse

from sites.models import EssentialDocument, Site
from tests.conftest import api_as
from trials.models import Milestone, Trial


def test_a_record_is_read_with_its_etag_and_written_with_if_match(world):
    client = api_as(world.crm)
    url = f"/api/v1/trials/{world.trial_a.pk}/"
    read = client.get(url)
    assert read["ETag"] == f'"{read.json()["revision"]}"'
    written = client.patch(url, {"title": "New", "change_reason": "R"}, format="json",
                           HTTP_IF_MATCH=read["ETag"])
    assert written.status_code == 200
    assert written["ETag"] == f'"{read.json()["revision"] + 1}"'


def test_a_stale_if_match_is_a_412_and_changes_nothing(world):
    client = api_as(world.crm)
    url = f"/api/v1/trials/{world.trial_a.pk}/"
    etag = client.get(url)["ETag"]
    client.patch(url, {"title": "First", "change_reason": "R"}, format="json")
    rows = Trial.history.filter(id=world.trial_a.pk).count()
    stale = client.patch(url, {"indication": "Later", "change_reason": "R"}, format="json",
                         HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert "changed by someone else" in stale.json()["revision"][0]
    trial = Trial.objects.get(pk=world.trial_a.pk)
    assert (trial.title, trial.indication) == ("First", "")
    assert Trial.history.filter(id=world.trial_a.pk).count() == rows


def test_a_malformed_if_match_is_a_400(world):
    response = api_as(world.crm).patch(f"/api/v1/trials/{world.trial_a.pk}/",
                                       {"title": "X", "change_reason": "R"}, format="json",
                                       HTTP_IF_MATCH="yesterday")
    assert response.status_code == 400
    assert "If-Match" in response.json()


def test_transitions_and_other_records_honour_if_match(world):
    client = api_as(world.crm)
    site_url = f"/api/v1/sites/{world.site_a2.pk}/"
    etag = client.get(site_url)["ETag"]
    client.patch(site_url, {"city": "Bonn", "change_reason": "Moved"}, format="json")
    stale = client.post(f"{site_url}transition/", {"status": "qualified", "change_reason": "Go"},
                        format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert Site.objects.get(pk=world.site_a2.pk).status == world.site_a2.status
    milestone_url = f"/api/v1/milestones/{world.milestone_a.pk}/"
    etag = client.get(milestone_url)["ETag"]
    client.patch(milestone_url, {"name": "x", "change_reason": "R"}, format="json")
    assert client.patch(milestone_url, {"planned_date": "2026-02-01", "change_reason": "R"},
                        format="json", HTTP_IF_MATCH=etag).status_code == 412
    assert Milestone.objects.get(pk=world.milestone_a.pk).planned_date.isoformat() == \
        "2026-01-15"
    document_url = f"/api/v1/essential-documents/{world.document_a2.pk}/"
    etag = client.get(document_url)["ETag"]
    client.patch(document_url, {"title": "T", "change_reason": "R"}, format="json")
    assert client.patch(document_url, {"version": "9", "change_reason": "R"}, format="json",
                        HTTP_IF_MATCH=etag).status_code == 412
    assert EssentialDocument.objects.get(pk=world.document_a2.pk).version == "1"


def test_a_stale_edit_form_is_a_409_with_the_message(world, client):
    client.force_login(world.crm)
    url = reverse("trials:edit", args=[world.trial_a.pk])
    form = client.get(url).context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    assert data["revision"] == world.trial_a.revision
    api_as(world.crm).patch(f"/api/v1/trials/{world.trial_a.pk}/",
                            {"title": "Meanwhile", "change_reason": "First"}, format="json")
    response = client.post(url, {**data, "title": "Mine", "change_reason": "Second"})
    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode()
    assert Trial.objects.get(pk=world.trial_a.pk).title == "Meanwhile"


def test_a_stale_transition_form_is_refused(world, client):
    client.force_login(world.crm)
    trial = world.trial_a
    revision = Trial.objects.get(pk=trial.pk).revision
    api_as(world.crm).patch(f"/api/v1/trials/{trial.pk}/",
                            {"title": "Meanwhile", "change_reason": "First"}, format="json")
    response = client.post(reverse("trials:transition", args=[trial.pk]), {
        "status": "startup", "change_reason": "Go", "revision": revision})
    assert response.status_code == 409
    assert Trial.objects.get(pk=trial.pk).status == "planning"
