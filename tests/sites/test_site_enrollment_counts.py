"""Each site's subjects counted by status (SiteEnrollment) move with every subject service —
screening, enrollment, screen failure, completion, withdrawal — through every door (services,
API, site page), and are what the trial page, the portfolio and the sites list read."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dashboards.enrollment import sites_with_enrollment
from sites.models import Site, SiteEnrollment, Subject
from sites.services import subject_screen, subject_transition
from tests.conftest import api_as
from tests.factories import SiteFactory

pytestmark = pytest.mark.django_db


def counts(site) -> tuple:
    row = SiteEnrollment.objects.get(site=site)
    return (row.screened_count, row.screen_failed_count, row.enrolled_total,
            row.screening_count, row.withdrawn_count)


def test_every_subject_change_moves_its_sites_counts(world):
    site, icf, admin = world.site_a1, world.icf_a, world.admin
    before = counts(site)
    week_ago = timezone.localdate() - timedelta(days=7)
    screened = [subject_screen(site=site, by=admin, number=f"S-{n}", consent_version=icf,
                               consented_on=week_ago) for n in range(4)]
    assert counts(site) == (before[0] + 4, before[1], before[2], before[3] + 4, before[4])
    today = timezone.localdate()
    subject_transition(subject=screened[0], to="screen_failed", on=today, by=admin)
    subject_transition(subject=screened[1], to="enrolled", on=today, by=admin)
    subject_transition(subject=screened[2], to="enrolled", on=today, by=admin)
    subject_transition(subject=screened[2], to="withdrawn", on=today, by=admin,
                       withdrawal_reason="Moved away")
    assert counts(site) == (before[0] + 4, before[1] + 1, before[2] + 2, before[3] + 1,
                            before[4] + 1)
    [row] = sites_with_enrollment(queryset=Site.objects.filter(pk=site.pk))
    assert (row.screened_count, row.enrolled_total, row.withdrawn_count) == (
        before[0] + 4, before[2] + 2, before[4] + 1)


def test_a_site_without_subjects_counts_zero():
    site = SiteFactory()
    [row] = sites_with_enrollment(queryset=Site.objects.filter(pk=site.pk))
    assert (row.screened_count, row.enrolled_total, row.screening_count) == (0, 0, 0)


def test_the_api_and_the_site_page_move_the_counts_too(world, client):
    """Each door of the subject services — the API's screening and transition, the site
    page's forms — keeps the counts, and the sites API reads them (`enrolled_count`)."""
    site, cra = world.site_a1, world.cra
    before = counts(site)
    api = api_as(cra)
    on = timezone.localdate().isoformat()
    made = api.post("/api/v1/subjects/", {"site": site.pk, "number": "101-900",
                                          "consent_version": world.icf_a.pk,
                                          "consented_on": on}, format="json")
    assert made.status_code == 201, made.json()
    moved = api.post(f"/api/v1/subjects/{made.json()['id']}/transition/",
                     {"status": "enrolled", "on": on}, format="json")
    assert moved.status_code == 200, moved.json()
    assert counts(site) == (before[0] + 1, before[1], before[2] + 1, before[3], before[4])
    listed = api.get("/api/v1/sites/", {"trial": site.trial_id}).json()["results"]
    assert {row["id"]: row["enrolled_count"] for row in listed}[site.pk] == before[2] + 1
    client.force_login(cra)
    subject = Subject.objects.get(pk=made.json()["id"])
    page = client.post(f"/sites/subjects/{subject.pk}/transition/",
                       {"to": "withdrawn", "on": on, "withdrawal_reason": "Moved away"})
    assert page.status_code == 302
    assert counts(site) == (before[0] + 1, before[1], before[2] + 1, before[3], before[4] + 1)
