"""A trial's sponsor cannot change while that sponsor's viewers are assigned — by any door."""

import pytest
from django.urls import reverse

from tests.admin_forms import admin_form_data
from tests.conftest import api_as
from tests.factories import SponsorFactory, sponsor_viewer_of
from trials.models import Trial


@pytest.fixture
def sponsor(trial):
    """The trial's sponsor viewer."""
    return sponsor_viewer_of(trial)


@pytest.fixture
def trial_sponsor(trial):
    return trial.sponsor


@pytest.fixture
def another_sponsor(db):
    return SponsorFactory()


def test_the_admin_goes_through_the_trial_service_and_keeps_the_sponsor(
        admin, trial, another_sponsor, trial_sponsor, sponsor, client):
    client.force_login(admin)
    url = reverse("admin:trials_trial_change", args=[trial.pk])
    data = admin_form_data(client, url, sponsor=another_sponsor.pk, change_reason="Sold")
    rows = trial.history.count()
    response = client.post(url, data, follow=True)
    assert "cannot change while sponsor viewers are assigned" in response.content.decode()
    assert Trial.objects.get(pk=trial.pk).sponsor == trial_sponsor
    assert trial.history.count() == rows  # nothing written


def test_the_api_refuses_the_sponsor_change_with_a_400(
        crm, trial, another_sponsor, trial_sponsor, sponsor):
    response = api_as(crm).patch(f"/api/v1/trials/{trial.pk}/",
                                 {"sponsor": another_sponsor.pk, "change_reason": "Sold"},
                                 format="json")
    assert response.status_code == 400
    assert "sponsor" in response.json()
    assert Trial.objects.get(pk=trial.pk).sponsor == trial_sponsor


def test_the_admin_changes_other_fields_through_the_service(admin, trial, client):
    client.force_login(admin)
    url = reverse("admin:trials_trial_change", args=[trial.pk])
    before = Trial.objects.get(pk=trial.pk).revision
    data = admin_form_data(client, url, title="Renamed in the admin", change_reason="Typo")
    assert client.post(url, data).status_code == 302
    trial = Trial.objects.get(pk=trial.pk)
    assert (trial.title, trial.revision) == ("Renamed in the admin", before + 1)
    assert trial.history.first().history_change_reason == "Typo"


def test_a_stale_admin_form_is_refused(admin, trial, crm, client):
    client.force_login(admin)
    url = reverse("admin:trials_trial_change", args=[trial.pk])
    data = admin_form_data(client, url, title="From a stale form", change_reason="Late")
    api_as(crm).patch(f"/api/v1/trials/{trial.pk}/",
                      {"title": "Meanwhile", "change_reason": "First"}, format="json")
    response = client.post(url, data, follow=True)
    assert "changed by someone else" in response.content.decode()
    assert Trial.objects.get(pk=trial.pk).title == "Meanwhile"
