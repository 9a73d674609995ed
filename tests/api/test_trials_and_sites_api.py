from django.contrib.auth.models import Permission

from sites.models import Site
from staffing.models import Assignment
from tests.conftest import api_as
from trials.models import Trial

TRIAL_FIELDS = {
    "id", "protocol_number", "title", "sponsor", "sponsor_name", "phase", "therapeutic_area",
    "indication", "status", "target_enrollment", "ind_number", "eu_ct_number", "nct_id",
    "investigational_product", "safety_timezone", "dibd", "enrolled_count", "active_sites_count",
}


def test_a_trial_has_exactly_the_contract_fields(world):
    body = api_as(world.crm).get(f"/api/v1/trials/{world.trial_a.pk}/").json()
    # API.md's fields, plus the next statuses, the revision and the medical-review setting
    # (added fields are allowed).
    assert set(body) == TRIAL_FIELDS | {"allowed_transitions", "revision", "medical_review_days"}
    assert body["enrolled_count"] == 1
    assert body["active_sites_count"] == 1
    assert body["sponsor_name"] == "Sponsor A"


def test_lists_are_paginated_and_filtered(world):
    body = api_as(world.admin).get(f"/api/v1/sites/?page_size=1&trial={world.trial_a.pk}").json()
    assert body["count"] == 2
    assert len(body["results"]) == 1
    assert body["next"]
    assert api_as(world.admin).get("/api/v1/sites/?page_size=500").status_code == 200
    assert api_as(world.admin).get("/api/v1/trials/?status=bogus").status_code == 400


def test_a_cro_user_with_the_create_permission_creates_a_trial_and_becomes_its_crm(world):
    world.crm.user_permissions.add(Permission.objects.get(codename="add_trial"))
    response = api_as(world.crm).post("/api/v1/trials/", {
        "protocol_number": "A-002", "title": "Extension", "sponsor": world.sponsor_a.pk,
        "phase": "III", "target_enrollment": 40, "safety_timezone": "Europe/Berlin",
    }, format="json")
    assert response.status_code == 201, response.json()
    trial = Trial.objects.get(protocol_number="A-002")
    assert Assignment.objects.filter(user=world.crm, trial=trial, role="CRM").exists()
    assert response.json()["status"] == "planning"


def test_bad_trial_input_is_a_400_naming_the_field_and_creates_nothing(world):
    world.crm.user_permissions.add(Permission.objects.get(codename="add_trial"))
    client = api_as(world.crm)
    cases = [
        ({"phase": "V"}, "phase"),
        ({"safety_timezone": "Mars/Olympus"}, "safety_timezone"),
        ({"sponsor": world.cro.pk}, "sponsor"),
        ({"protocol_number": "A-001"}, "protocol_number"),
        ({"target_enrollment": -1}, "target_enrollment"),
    ]
    valid = {"protocol_number": "A-003", "title": "T", "sponsor": world.sponsor_a.pk,
             "phase": "II"}
    for change, field in cases:
        response = client.post("/api/v1/trials/", {**valid, **change}, format="json")
        assert response.status_code == 400, change
        assert field in response.json(), (change, response.json())
    assert not Trial.objects.filter(protocol_number="A-003").exists()


def test_site_country_must_be_iso_alpha2_and_numbers_unique(world):
    client = api_as(world.crm)
    base = {"trial": world.trial_a.pk, "number": "103", "institution": "Delta"}
    for country in ("Germany", "D1", "AÒ", "  "):
        response = client.post("/api/v1/sites/", {**base, "country": country}, format="json")
        assert response.status_code == 400, country
        assert "country" in response.json()
    response = client.post("/api/v1/sites/", {**base, "number": "101", "country": "de"},
                           format="json")
    assert response.status_code == 400
    assert "number" in response.json()
    response = client.post("/api/v1/sites/", {**base, "country": "de"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["country"] == "DE"
    assert Site.objects.filter(trial=world.trial_a).count() == 3


def test_a_crm_cannot_add_a_site_to_a_foreign_trial(world):
    response = api_as(world.crm).post("/api/v1/sites/", {
        "trial": world.trial_b.pk, "number": "999", "institution": "X", "country": "US",
    }, format="json")
    assert response.status_code == 400
    assert "trial" in response.json()
    assert not Site.objects.filter(number="999").exists()


def test_assignment_api_starts_and_ends_with_a_reason(world):
    client = api_as(world.crm)
    response = client.post("/api/v1/assignments/", {
        "user": world.monitor.pk, "trial": world.trial_a.pk, "role": "CRA",
        "site": world.site_a2.pk, "start_date": "2026-01-01", "allocation": "0.5",
    }, format="json")
    assert response.status_code == 201, response.json()
    assignment_id = response.json()["id"]
    response = client.post(f"/api/v1/assignments/{assignment_id}/end/",
                           {"end_date": "2026-02-01"}, format="json")
    assert response.status_code == 400
    assert "change_reason" in response.json()
    response = client.post(f"/api/v1/assignments/{assignment_id}/end/",
                           {"end_date": "2026-02-01", "change_reason": "Covered"}, format="json")
    assert response.status_code == 200
    assert response.json()["end_date"] == "2026-02-01"


def test_assigning_a_foreign_sponsor_viewer_is_a_400_and_grants_nothing(world):
    response = api_as(world.crm).post("/api/v1/assignments/", {
        "user": world.outsider.pk, "trial": world.trial_a.pk, "role": "SPONSOR_VIEWER",
        "start_date": "2026-01-01",
    }, format="json")
    assert response.status_code == 400
    assert "user" in response.json()
    assert api_as(world.outsider).get(f"/api/v1/trials/{world.trial_a.pk}/").status_code == 404
