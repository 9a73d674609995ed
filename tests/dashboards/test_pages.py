import pytest
from django.urls import reverse

from tests.factories import (
    SiteFactory,
    UserFactory,
    monitor_of,
    sponsor_viewer_of,
)


@pytest.fixture
def site(trial):
    return SiteFactory(trial=trial, number="101", activated=True)


@pytest.fixture
def second_site(trial):
    return SiteFactory(trial=trial)


@pytest.fixture
def monitor(trial):
    return monitor_of(trial)


@pytest.fixture
def sponsor(trial):
    """The trial's sponsor viewer."""
    return sponsor_viewer_of(trial)


SECTIONS = {"crm": "home-crm", "cra": "home-cra", "monitor": "home-monitor",
            "sponsor": "home-sponsor"}


@pytest.mark.parametrize("persona", SECTIONS)
def test_each_role_sees_its_own_home_section_only(db, request, client, persona):
    client.force_login(request.getfixturevalue(persona))
    html = client.get(reverse("dashboards:home")).content.decode()
    for other, section in SECTIONS.items():
        assert (f'id="{section}"' in html) == (other == persona), (persona, section)


def test_the_sponsor_dashboard_never_shows_another_sponsors_trial(world, client):
    client.force_login(world.sponsor)
    html = client.get(reverse("dashboards:home")).content.decode()
    assert "A-001" in html
    assert "B-001" not in html
    html = client.get(reverse("trials:list")).content.decode()
    assert "B-001" not in html


def test_the_monitor_queue_lists_pending_events_of_their_trial(world, client):
    client.force_login(world.monitor)
    response = client.get(reverse("dashboards:home"))
    queue = response.context["review_queue"]
    assert {e.pk for e in queue} == {world.ae_a1.pk, world.ae_a2.pk}


def test_navigation_hides_admin_from_non_staff(crm, admin, client):
    client.force_login(crm)
    assert "/admin/" not in client.get(reverse("dashboards:home")).content.decode()
    client.force_login(admin)
    assert "/admin/" in client.get(reverse("dashboards:home")).content.decode()


def test_a_user_without_assignment_is_told_so(db, client):
    client.force_login(UserFactory(username="idle"))
    assert 'id="no-role"' in client.get(reverse("dashboards:home")).content.decode()


def test_healthz_reports_the_database(db, client):
    health = client.get("/healthz/").json()
    assert (health["status"], health["database"]) == ("ok", "ok")


def test_site_edit_needs_a_reason_and_respects_cra_scope(cra, site, second_site, client):
    client.force_login(cra)
    data = {"number": "101", "institution": "Alpha Clinic", "country": "DE", "status": "active",
            "target_enrollment": 10, "change_reason": "Institution renamed"}
    response = client.post(reverse("sites:edit", args=[site.pk]), data)
    assert response.status_code == 302
    site.refresh_from_db()
    assert site.institution == "Alpha Clinic"
    response = client.post(reverse("sites:edit", args=[second_site.pk]), data)
    assert response.status_code == 404
