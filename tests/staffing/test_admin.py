"""The Django admin: every model registered, staff only, reasons for edits, no deletes."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from staffing.models import Assignment
from tests.factories import AdminFactory, TrialFactory, UserFactory
from trials.models import Trial

OWN_APPS = {"staffing", "trials", "sites", "safety"}


def own_models():
    return [m for m in apps.get_models()
            if m._meta.app_label in OWN_APPS and not m.__name__.startswith("Historical")
            and not m.__name__.endswith("GroupObjectPermission")]


def test_every_model_of_the_portal_is_in_the_admin():
    missing = [m.__name__ for m in own_models() if m not in admin.site._registry]
    assert missing == []


@pytest.mark.parametrize("model", own_models(), ids=lambda m: m.__name__)
def test_each_admin_changelist_loads_for_staff(world, client, model):
    client.force_login(world.admin)
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    assert client.get(url).status_code == 200


def test_non_staff_are_sent_to_the_admin_login(db, client):
    client.force_login(UserFactory())
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_an_admin_edit_of_a_regulated_record_needs_a_reason(db, client):
    trial = TrialFactory(protocol_number="A-001", title="Trial A")
    client.force_login(AdminFactory())
    url = reverse("admin:trials_trial_change", args=[trial.pk])
    data = {"protocol_number": "A-001", "title": "Admin renamed", "sponsor": trial.sponsor.pk,
            "phase": "II", "status": "planning", "target_enrollment": 100,
            "safety_timezone": "UTC", "medical_review_days": 1, "change_reason": ""}
    response = client.post(url, data)
    assert response.status_code == 200
    assert Trial.objects.get(pk=trial.pk).title == "Trial A"
    response = client.post(url, {**data, "change_reason": "Typo in the title"})
    assert response.status_code == 302
    assert trial.history.first().history_change_reason == "Typo in the title"


def test_admin_cannot_delete_regulated_records(db, client):
    trial = TrialFactory()
    client.force_login(AdminFactory())
    url = reverse("admin:trials_trial_delete", args=[trial.pk])
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert Trial.objects.filter(pk=trial.pk).exists()


def test_an_assignment_added_in_the_admin_grants_permissions(db, client):
    from trials.selectors import trials_visible_to

    trial = TrialFactory()
    newcomer = UserFactory(username="admin_added")
    client.force_login(AdminFactory())
    response = client.post(reverse("admin:staffing_assignment_add"), {
        "user": newcomer.pk, "trial": trial.pk, "role": "MEDICAL_MONITOR",
        "start_date": "2026-01-01", "allocation": "0.2", "change_reason": "",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Assignment.objects.filter(user=newcomer).exists()
    assert list(trials_visible_to(user=newcomer)) == [trial]
