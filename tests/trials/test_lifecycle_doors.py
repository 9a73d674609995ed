"""Status moves only through its transition service: not by a page form, the API or the admin."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from croportal.exceptions import ApplicationError
from sites.models import Site
from sites.services import site_update
from tests.admin_forms import admin_form_data
from tests.conftest import api_as
from tests.factories import SubjectFactory, TrialFactory
from trials.models import Trial
from trials.services import trial_update


@pytest.fixture
def trial(db):
    return TrialFactory(protocol_number="A-001", title="Trial A", ind_number="123456")


@pytest.fixture
def trial_sponsor(trial):
    return trial.sponsor


@pytest.fixture
def subject(site):
    return SubjectFactory(site=site)


def test_the_trial_service_refuses_a_status_in_an_edit(trial, admin):
    with pytest.raises(ApplicationError) as refused:
        trial_update(trial=trial, by=admin, reason="Jump", status="completed")
    assert refused.value.field == "status"
    assert Trial.objects.get(pk=trial.pk).status == "planning"


def test_the_trial_edit_page_offers_no_status_and_ignores_one_posted(
        crm, trial, trial_sponsor, client):
    client.force_login(crm)
    url = reverse("trials:edit", args=[trial.pk])
    assert "status" not in client.get(url).context["form"].fields
    response = client.post(url, {
        "protocol_number": "A-001", "title": "Trial A", "sponsor": trial_sponsor.pk,
        "phase": "II", "target_enrollment": 100, "safety_timezone": "UTC",
        "ind_number": "123456", "status": "completed", "change_reason": "Jump"})
    assert response.status_code == 302
    assert Trial.objects.get(pk=trial.pk).status == "planning"


def test_a_patch_of_trial_status_is_a_400_pointing_at_transition(crm, trial):
    response = api_as(crm).patch(f"/api/v1/trials/{trial.pk}/",
                                 {"status": "completed", "change_reason": "Jump"},
                                 format="json")
    assert response.status_code == 400
    assert "transition" in response.json()["status"][0]
    assert Trial.objects.get(pk=trial.pk).status == "planning"


def test_a_patch_repeating_the_current_status_is_accepted(crm, trial):
    response = api_as(crm).patch(f"/api/v1/trials/{trial.pk}/",
                                 {"status": "planning", "title": "Same status",
                                  "change_reason": "Round trip"}, format="json")
    assert response.status_code == 200
    assert Trial.objects.get(pk=trial.pk).title == "Same status"


def test_a_new_trial_through_the_api_starts_in_planning_whatever_it_asks(crm, trial_sponsor):
    crm.user_permissions.add(Permission.objects.get(codename="add_trial"))
    response = api_as(crm).post("/api/v1/trials/", {
        "protocol_number": "A-900", "title": "T", "sponsor": trial_sponsor.pk,
        "phase": "II", "status": "completed"}, format="json")
    assert response.status_code == 400
    assert not Trial.objects.filter(protocol_number="A-900").exists()


def test_the_trial_admin_shows_status_read_only(admin, trial, client):
    client.force_login(admin)
    url = reverse("admin:trials_trial_change", args=[trial.pk])
    data = admin_form_data(client, url, status="completed", change_reason="Admin jump")
    assert "status" not in client.get(url).context["adminform"].form.fields
    assert client.post(url, data).status_code == 302
    assert Trial.objects.get(pk=trial.pk).status == "planning"


def test_site_status_and_activation_date_do_not_move_by_edit(site, crm, admin):
    for field, value in (("status", "active"), ("activated_on", "2026-01-01")):
        response = api_as(crm).patch(f"/api/v1/sites/{site.pk}/",
                                     {field: value, "change_reason": "Jump"},
                                     format="json")
        assert response.status_code == 400, field
        assert "transition" in response.json()[field][0]
    with pytest.raises(ApplicationError) as refused:
        site_update(site=site, by=admin, reason="Jump", activated_on=site.created_at.date())
    assert refused.value.field == "activated_on"
    fresh = Site.objects.get(pk=site.pk)
    assert (fresh.status, fresh.activated_on) == (site.status, site.activated_on)


def test_the_site_edit_page_and_admin_offer_neither_status_nor_activation(admin, site, client):
    client.force_login(admin)
    page = client.get(reverse("sites:edit", args=[site.pk])).context["form"]
    assert not {"status", "activated_on"} & set(page.fields)
    url = reverse("admin:sites_site_change", args=[site.pk])
    admin_form = client.get(url).context["adminform"].form
    assert not {"status", "activated_on"} & set(admin_form.fields)
    data = admin_form_data(client, url, status="active", activated_on="2026-01-01",
                           change_reason="Admin jump")
    assert client.post(url, data).status_code == 302
    assert Site.objects.get(pk=site.pk).activated_on is None


def test_subjects_are_read_only_in_the_admin(admin, subject, client):
    client.force_login(admin)
    url = reverse("admin:sites_subject_change", args=[subject.pk])
    assert client.get(url).context["adminform"].form.fields.keys() <= {"change_reason",
                                                                        "opened_revision"}
    assert client.get(reverse("admin:sites_subject_add")).status_code == 403
