"""Every list and dashboard runs a bounded number of queries, whatever the row count."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from safety.models import CtcaeTerm
from safety.services import adverse_event_create
from sites.services import site_create, subject_create
from staffing.models import Role
from staffing.services import assignment_start
from tests.conftest import activate_site, api_as
from trials.services import trial_create


def grow(world, n: int) -> None:
    """Add n more trials for the CRM/sponsor of A, each with a site, a subject and an AE."""
    term = CtcaeTerm.objects.get(term="Febrile neutropenia")
    for i in range(n):
        trial = trial_create(by=world.admin, protocol_number=f"A-{100 + i}", title="More",
                             sponsor=world.sponsor_a, phase="II")
        for user, role in ((world.crm, Role.CRM), (world.sponsor, Role.SPONSOR_VIEWER),
                           (world.monitor, Role.MEDICAL_MONITOR)):
            assignment_start(user=user, trial=trial, role=role, by=world.admin,
                             start_date=date(2026, 1, 1))
        site = activate_site(site_create(trial=trial, by=world.admin, number="1",
                                         institution="S", country="DE"), by=world.admin)
        assignment_start(user=world.cra, trial=trial, site=site, role=Role.CRA,
                         by=world.admin, start_date=date(2026, 1, 1))
        subject = subject_create(site=site, by=world.admin, number=f"S-{i}", status="enrolled")
        adverse_event_create(subject=subject, by=world.admin, verbatim_term="x", term=term,
                             onset_date=date(2026, 5, 1), severity_grade=3,
                             seriousness_criteria=["death"],
                             site_awareness_at=world.ae_a1.site_awareness_at,
                             sponsor_awareness_at=world.ae_a1.sponsor_awareness_at)


def count(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = fn()
    assert response.status_code == 200
    return len(ctx.captured_queries)


API_LISTS = ["/api/v1/trials/", "/api/v1/sites/", "/api/v1/subjects/", "/api/v1/assignments/",
             "/api/v1/adverse-events/", "/api/v1/ctcae-terms/?search=a"]


@pytest.mark.parametrize("url", API_LISTS)
def test_api_lists_do_not_grow_with_rows(world, url):
    client = api_as(world.crm)
    small = count(lambda: client.get(url + ("&" if "?" in url else "?") + "page_size=200"))
    grow(world, 50)
    large = count(lambda: client.get(url + ("&" if "?" in url else "?") + "page_size=200"))
    assert large == small, f"{url}: {small} queries with few rows, {large} with many"


@pytest.mark.parametrize("persona", ["crm", "cra", "monitor", "sponsor"])
def test_home_pages_do_not_grow_with_rows(world, client, persona):
    client.force_login(getattr(world, persona))
    small = count(lambda: client.get(reverse("dashboards:home")))
    grow(world, 50)
    large = count(lambda: client.get(reverse("dashboards:home")))
    assert large == small


@pytest.mark.parametrize("page_name", ["trials:list", "trials:detail", "sites:detail"])
def test_trial_and_site_pages_do_not_grow_with_rows(world, client, page_name):
    client.force_login(world.crm)
    args = {"trials:list": [], "trials:detail": [world.trial_a.pk],
            "sites:detail": [world.site_a1.pk]}[page_name]
    small = count(lambda: client.get(reverse(page_name, args=args)))
    grow(world, 30)
    for n in range(30):
        subject_create(site=world.site_a1, by=world.admin, number=f"X-{n}")
        site_create(trial=world.trial_a, by=world.admin, number=f"9{n:02d}", institution="I",
                    country="IT")
    large = count(lambda: client.get(reverse(page_name, args=args)))
    assert large == small
