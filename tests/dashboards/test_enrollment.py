"""Enrollment vs plan and the forecast, computed from the subjects on request."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from dashboards.enrollment import enrollment_of, planned_at, portfolio
from sites.models import Site
from sites.selectors import sites_visible_to
from sites.services import site_create, subject_create
from tests.conftest import activate_site
from tests.factories import SiteFactory, SubjectFactory
from trials.forecast import time_to_recruit_quantile
from trials.selectors import trials_visible_to, trials_with_counts
from trials.services import milestone_create, milestone_update

pytestmark = pytest.mark.django_db


def test_planned_at_is_linear_from_fpi_to_lpi():
    start, end = date(2026, 1, 1), date(2026, 1, 11)
    assert planned_at(day=date(2025, 12, 1), start=start, end=end, target=100) == 0
    assert planned_at(day=date(2026, 1, 6), start=start, end=end, target=100) == 50
    assert planned_at(day=date(2027, 1, 1), start=start, end=end, target=100) == 100
    assert planned_at(day=date(2026, 1, 6), start=None, end=end, target=100) is None
    assert planned_at(day=date(2026, 1, 6), start=end, end=start, target=100) is None


def plan(world, today: date, *, fpi_days_ago: int, lpi_in_days: int) -> None:
    milestone_create(trial=world.trial_a, by=world.crm, kind="fpi",
                     planned_date=today - timedelta(days=fpi_days_ago))
    milestone_create(trial=world.trial_a, by=world.crm, kind="lpi",
                     planned_date=today + timedelta(days=lpi_in_days))


def test_totals_curve_tables_and_screen_failures(world):
    today = timezone.localdate()
    plan(world, today, fpi_days_ago=100, lpi_in_days=100)  # halfway: 50 of 100 planned
    site = world.site_a1
    for n, days_ago in enumerate((30, 30, 10)):
        subject_create(site=site, by=world.admin, number=f"E-{n}", status="enrolled",
                       enrolled_on=today - timedelta(days=days_ago))
    subject_create(site=site, by=world.admin, number="F-1", status="screen_failed")
    subject_create(site=site, by=world.admin, number="S-1")  # still screening
    e = enrollment_of(trial=world.trial_a, sites=Site.objects.all(), today=today)
    # subject_a1 enrolled 2026-05-01, plus three here
    assert e.enrolled == 4
    assert e.screen_failed == 1
    assert e.screening == 2
    assert e.planned_today == 50.0
    assert e.behind_plan == -46.0
    assert [n for _, n in e.actual] == [1, 3, 4]
    # Failures among those whose screening ended: 1 of (7 screened - 2 screening).
    assert e.screen_failure_rate == pytest.approx(1 / 5)
    row = next(s for s in e.sites if s.pk == site.pk)
    assert (row.screened_count, row.enrolled_total, row.screen_failed_count) == (6, 4, 1)
    de = next(c for c in e.countries if c["country"] == "DE")
    assert de["enrolled"] == 4
    assert de["sites"] == 1
    chart = e.chart()
    assert chart["planned"][-1] == {"x": (today + timedelta(days=100)).isoformat(), "y": 100}
    assert chart["actual"][-1] == {"x": today.isoformat(), "y": 4}


def test_a_site_scoped_cra_sees_totals_but_only_their_sites_rows(world):
    today = timezone.localdate()
    e = enrollment_of(trial=world.trial_a, sites=sites_visible_to(user=world.cra), today=today)
    assert [s.number for s in e.sites] == ["101"]
    assert e.screened == 2  # subject_a1 at 101 and subject_a2 at 102: the trial's totals


def test_pooled_forecast_from_the_plan_when_too_few_sites(world):
    """One open site: no per-site fit; the pooled model with the plan as prior (DOMAIN B §9)."""
    today = timezone.localdate()
    plan(world, today, fpi_days_ago=60, lpi_in_days=305)  # 365 planned days for 100 subjects
    Site.objects.filter(pk=world.site_a1.pk).update(activated_on=today - timedelta(days=60))
    e = enrollment_of(trial=world.trial_a, sites=Site.objects.all(), today=today)
    fc = e.forecast
    assert fc.method == "pooled"
    # Gamma(100*0.5 + 1, 365*0.5 + 60) on the rate, 99 still to enrol.
    assert fc.shape == pytest.approx(51)
    assert fc.rate == pytest.approx(242.5)
    assert fc.median_days == pytest.approx(time_to_recruit_quantile(99, 51, 242.5, 0.5))
    assert 0 <= fc.p_within_planned <= 1
    assert e.forecast_date(fc.median_days) > today


def test_per_site_forecast_with_enough_open_sites(world):
    today = timezone.localdate()
    sites = []
    for i, (opened, enrolled) in enumerate(((200, 2), (150, 12), (100, 1), (120, 9))):
        site = activate_site(site_create(trial=world.trial_a, by=world.crm, number=f"3{i}",
                                         institution=f"S{i}", country="IT"), by=world.crm)
        Site.objects.filter(pk=site.pk).update(activated_on=today - timedelta(days=opened))
        for n in range(enrolled):
            subject_create(site=site, by=world.admin, number=f"3{i}-{n}", status="enrolled",
                           enrolled_on=today - timedelta(days=n))
        sites.append(site)
    Site.objects.filter(pk=world.site_a1.pk).update(activated_on=today - timedelta(days=180))
    e = enrollment_of(trial=world.trial_a, sites=Site.objects.all(), today=today)
    assert e.forecast.method == "hierarchical"
    assert e.forecast.low_days < e.forecast.median_days < e.forecast.high_days
    # A site planned to open later is counted from its planned activation (simulation).
    site_create(trial=world.trial_a, by=world.crm, number="39", institution="Later",
                country="IT", planned_activation_on=today + timedelta(days=30))
    later = enrollment_of(trial=world.trial_a, sites=Site.objects.all(), today=today)
    assert later.forecast.method == "simulated"
    assert later.forecast.median_days < e.forecast.median_days  # one more site helps


def test_no_forecast_without_a_plan_or_open_sites(db):
    subject = SubjectFactory(site=SiteFactory(activated=True), enrolled=True)  # no milestones
    e = enrollment_of(trial=subject.trial, sites=Site.objects.all(), today=timezone.localdate())
    assert e.forecast is None
    assert "needs" in e.forecast_method_note


def test_portfolio_rows(world):
    today = timezone.localdate()
    plan(world, today, fpi_days_ago=10, lpi_in_days=10)
    milestone_create(trial=world.trial_a, by=world.crm, kind="database_lock",
                     baseline_date=today + timedelta(days=20),
                     planned_date=today + timedelta(days=27))
    trials = list(trials_with_counts(queryset=trials_visible_to(user=world.crm)))
    [row] = portfolio(trials=trials, overdue_by_trial={world.trial_a.pk: 3}, today=today)
    assert row.planned_today == 50.0
    assert row.enrolled == 1
    assert row.next_milestone.kind == "fpi"  # not reached: overdue, so it comes first
    milestone_update(milestone=row.next_milestone, by=world.crm, reason="Reached",
                     actual_date=today - timedelta(days=8))
    trials = list(trials_with_counts(queryset=trials_visible_to(user=world.crm)))
    [row] = portfolio(trials=trials, overdue_by_trial={world.trial_a.pk: 3}, today=today)
    assert row.next_milestone.kind == "lpi"
    assert row.sites_active == 1
    assert row.sites_total == 2
    assert row.overdue_deadlines == 3
    SubjectFactory(site=world.site_a1, enrolled=True)  # registered through subject_create
    [row] = portfolio(trials=list(trials_with_counts(queryset=trials_visible_to(user=world.crm))),
                      overdue_by_trial={}, today=today)
    assert row.enrolled == 2
