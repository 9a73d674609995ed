"""A trial's sponsor cannot change while that sponsor's viewers are assigned — by any door."""

from django.urls import reverse

from tests.admin_forms import admin_form_data
from tests.conftest import api_as
from trials.models import Trial


def test_the_admin_goes_through_the_trial_service_and_keeps_the_sponsor(world, client):
    client.force_login(world.admin)
    url = reverse("admin:trials_trial_change", args=[world.trial_a.pk])
    data = admin_form_data(client, url, sponsor=world.sponsor_b.pk, change_reason="Sold")
    rows = world.trial_a.history.count()
    response = client.post(url, data, follow=True)
    assert "cannot change while sponsor viewers are assigned" in response.content.decode()
    assert Trial.objects.get(pk=world.trial_a.pk).sponsor == world.sponsor_a
    assert world.trial_a.history.count() == rows  # nothing written


def test_the_api_refuses_the_sponsor_change_with_a_400(world):
    response = api_as(world.crm).patch(f"/api/v1/trials/{world.trial_a.pk}/",
                                       {"sponsor": world.sponsor_b.pk, "change_reason": "Sold"},
                                       format="json")
    assert response.status_code == 400
    assert "sponsor" in response.json()
    assert Trial.objects.get(pk=world.trial_a.pk).sponsor == world.sponsor_a


def test_the_admin_changes_other_fields_through_the_service(world, client):
    client.force_login(world.admin)
    url = reverse("admin:trials_trial_change", args=[world.trial_a.pk])
    before = Trial.objects.get(pk=world.trial_a.pk).revision
    data = admin_form_data(client, url, title="Renamed in the admin", change_reason="Typo")
    assert client.post(url, data).status_code == 302
    trial = Trial.objects.get(pk=world.trial_a.pk)
    assert (trial.title, trial.revision) == ("Renamed in the admin", before + 1)
    assert trial.history.first().history_change_reason == "Typo"


def test_a_stale_admin_form_is_refused(world, client):
    client.force_login(world.admin)
    url = reverse("admin:trials_trial_change", args=[world.trial_a.pk])
    data = admin_form_data(client, url, title="From a stale form", change_reason="Late")
    api_as(world.crm).patch(f"/api/v1/trials/{world.trial_a.pk}/",
                            {"title": "Meanwhile", "change_reason": "First"}, format="json")
    response = client.post(url, data, follow=True)
    assert "changed by someone else" in response.content.decode()
    assert Trial.objects.get(pk=world.trial_a.pk).title == "Meanwhile"
