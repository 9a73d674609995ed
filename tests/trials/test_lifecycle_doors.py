"""Status moves only through its transition service: not by a page form, the API or the admin."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from croportal.exceptions import ApplicationError
from sites.models import Site
from sites.services import site_update
from tests.admin_forms import admin_form_data
from tests.conftest import api_as
from trials.models import Trial
from trials.services import trial_update


def test_the_trial_service_refuses_a_status_in_an_edit(world):
    with pytest.raises(ApplicationError) as refused:
        trial_update(trial=world.trial_a, by=world.admin, reason="Jump", status="completed")
    assert refused.value.field == "status"
    assert Trial.objects.get(pk=world.trial_a.pk).status == "planning"


def test_the_trial_edit_page_offers_no_status_and_ignores_one_posted(world, client):
    client.force_login(world.crm)
    url = reverse("trials:edit", args=[world.trial_a.pk])
    assert "status" not in client.get(url).context["form"].fields
    response = client.post(url, {
        "protocol_number": "A-001", "title": "Trial A", "sponsor": world.sponsor_a.pk,
        "phase": "II", "target_enrollment": 100, "safety_timezone": "UTC",
        "ind_number": "123456", "status": "completed", "change_reason": "Jump"})
    assert response.status_code == 302
    assert Trial.objects.get(pk=world.trial_a.pk).status == "planning"


def test_a_patch_of_trial_status_is_a_400_pointing_at_transition(world):
    response = api_as(world.crm).patch(f"/api/v1/trials/{world.trial_a.pk}/",
                                       {"status": "completed", "change_reason": "Jump"},
                                       format="json")
    assert response.status_code == 400
    assert "transition" in response.json()["status"][0]
    assert Trial.objects.get(pk=world.trial_a.pk).status == "planning"


def test_a_patch_repeating_the_current_status_is_accepted(world):
    response = api_as(world.crm).patch(f"/api/v1/trials/{world.trial_a.pk}/",
                                       {"status": "planning", "title": "Same status",
                                        "change_reason": "Round trip"}, format="json")
    assert response.status_code == 200
    assert Trial.objects.get(pk=world.trial_a.pk).title == "Same status"


def test_a_new_trial_through_the_api_starts_in_planning_whatever_it_asks(world):
    world.crm.user_permissions.add(Permission.objects.get(codename="add_trial"))
    response = api_as(world.crm).post("/api/v1/trials/", {
        "protocol_number": "A-900", "title": "T", "sponsor": world.sponsor_a.pk,
        "phase": "II", "status": "completed"}, format="json")
    assert response.status_code == 400
    assert not Trial.objects.filter(protocol_number="A-900").exists()


def test_the_trial_admin_shows_status_read_only(world, client):
    client.force_login(world.admin)
    url = reverse("admin:trials_trial_change", args=[world.trial_a.pk])
    data = admin_form_data(client, url, status="completed", change_reason="Admin jump")
    assert "status" not in client.get(url).context["adminform"].form.fields
    assert client.post(url, data).status_code == 302
    assert Trial.objects.get(pk=world.trial_a.pk).status == "planning"


def test_site_status_and_activation_date_do_not_move_by_edit(world):
    site = world.site_a2
    for field, value in (("status", "active"), ("activated_on", "2026-01-01")):
        response = api_as(world.crm).patch(f"/api/v1/sites/{site.pk}/",
                                           {field: value, "change_reason": "Jump"},
                                           format="json")
        assert response.status_code == 400, field
        assert "transition" in response.json()[field][0]
    with pytest.raises(ApplicationError) as refused:
        site_update(site=site, by=world.admin, reason="Jump", activated_on=site.created_at.date())
    assert refused.value.field == "activated_on"
    fresh = Site.objects.get(pk=site.pk)
    assert (fresh.status, fresh.activated_on) == (site.status, site.activated_on)


def test_the_site_edit_page_and_admin_offer_neither_status_nor_activation(world, client):
    client.force_login(world.admin)
    page = client.get(reverse("sites:edit", args=[world.site_a2.pk])).context["form"]
    assert not {"status", "activated_on"} & set(page.fields)
    url = reverse("admin:sites_site_change", args=[world.site_a2.pk])
    admin_form = client.get(url).context["adminform"].form
    assert not {"status", "activated_on"} & set(admin_form.fields)
    data = admin_form_data(client, url, status="active", activated_on="2026-01-01",
                           change_reason="Admin jump")
    assert client.post(url, data).status_code == 302
    assert Site.objects.get(pk=world.site_a2.pk).activated_on is None


def test_subjects_are_read_only_in_the_admin(world, client):
    client.force_login(world.admin)
    url = reverse("admin:sites_subject_change", args=[world.subject_a1.pk])
    assert client.get(url).context["adminform"].form.fields.keys() <= {"change_reason",
                                                                        "opened_revision"}
    assert client.get(reverse("admin:sites_subject_add")).status_code == 403
