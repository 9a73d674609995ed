"""The CRM portfolio on the home page, and the sponsor's enrollment view of their trials."""

from datetime import date, timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from reminders.services import deadline_create_manual
from sites.models import Site
from sites.services import site_create, subject_create
from staffing.models import Role
from staffing.services import assignment_start
from tests.conftest import activate_site
from trials.services import milestone_create, trial_create


def home(client):
    response = client.get(reverse("dashboards:home"))
    assert response.status_code == 200
    return response


def plan_trial_a(world) -> None:
    """Trial A (target 100): FPI reached, LPI re-planned 20 days later than its baseline,
    site 102 planned to open yesterday; one overdue task, one not yet due (the fixture's)."""
    today = timezone.localdate()
    milestone_create(trial=world.trial_a, by=world.admin, kind="fpi",
                     planned_date=today - timedelta(days=100),
                     actual_date=today - timedelta(days=100))
    milestone_create(trial=world.trial_a, by=world.admin, kind="lpi",
                     baseline_date=today + timedelta(days=80),
                     planned_date=today + timedelta(days=100))
    Site.objects.filter(pk=world.site_a2.pk).update(planned_activation_on=today - timedelta(1))
    deadline_create_manual(by=world.crm, kind="task", trial=world.trial_a, owner=world.cra,
                           due_at=timezone.now() - timedelta(days=3), title="Late task")
    deadline_create_manual(by=world.crm_b, kind="task", trial=world.trial_b, owner=world.crm_b,
                           due_at=timezone.now() - timedelta(days=3), title="B's late task")


def test_the_portfolio_row_adds_up_for_a_constructed_trial(world, client):
    plan_trial_a(world)
    client.force_login(world.crm)
    response = home(client)
    [p] = response.context["crm_portfolio"]
    assert p["trial"] == world.trial_a
    assert (p["enrolled"], p["target"]) == (1, 100)
    assert p["planned_today"] == 50  # halfway from FPI to LPI
    assert (p["versus_plan"], p["behind_by"]) == (-49, 49)
    assert p["next_milestone"].kind == "lpi"
    assert (p["slippage"], p["late"]) == (20, True)
    assert (p["row"].sites_active, p["row"].sites_total, p["row"].sites_planned_by_today) == (
        1, 2, 1)
    # The late task, and the medical reviews of the world's two serious AEs (due the day after
    # their Day 0 in June, escalating to the CRM); trial B's late task is not the CRM's.
    assert p["row"].overdue_deadlines == 3
    assert p["forecast_median"] is not None
    assert p["meets_lpi"] is not None

    html = response.content.decode()
    deadlines = reverse("reminders:trial_deadlines", args=[world.trial_a.pk])
    assert f'<a href="{deadlines}" class="late">3</a>' in html
    assert '<span class="late slippage">+20 d</span>' in html
    assert '<span class="planned-today">50</span>' in html
    assert '<small class="late">49 behind</small>' in html


def test_the_portfolio_changes_when_a_subject_enrolls(world, client):
    plan_trial_a(world)
    client.force_login(world.crm)
    before = home(client).context["crm_portfolio"][0]["enrolled"]
    subject_create(site=world.site_a1, by=world.admin, number="101-009", status="enrolled",
                   enrolled_on=timezone.localdate())
    assert home(client).context["crm_portfolio"][0]["enrolled"] == before + 1


def test_the_sponsor_sees_enrollment_against_target_but_no_deadlines(world, client):
    plan_trial_a(world)
    client.force_login(world.sponsor)
    response = home(client)
    [p] = response.context["sponsor_portfolio"]
    assert (p["trial"], p["enrolled"], p["target"]) == (world.trial_a, 1, 100)
    section = response.content.decode().split('id="home-sponsor"')[1]
    assert '<span class="enrolled-count">1</span> / 100' in section
    assert "Overdue deadlines" not in section
    assert "overdue-count" not in section
    assert "crm_portfolio" not in response.context


def grow_portfolio(world, n: int) -> None:
    """n more trials managed by the CRM, each with milestones, an active site and a subject."""
    today = timezone.localdate()
    for i in range(n):
        trial = trial_create(by=world.admin, protocol_number=f"P-{i:03d}", title="More",
                             sponsor=world.sponsor_a, phase="III", target_enrollment=20)
        assignment_start(user=world.crm, trial=trial, role=Role.CRM, by=world.admin,
                         start_date=date(2026, 1, 1))
        milestone_create(trial=trial, by=world.admin, kind="fpi",
                         planned_date=today - timedelta(days=50))
        milestone_create(trial=trial, by=world.admin, kind="lpi",
                         planned_date=today + timedelta(days=50 + i))
        site = activate_site(site_create(trial=trial, by=world.admin, number="1",
                                         institution="S", country="DE"), by=world.admin)
        subject_create(site=site, by=world.admin, number=f"P{i}-1", status="enrolled",
                       enrolled_on=today - timedelta(days=i))


def test_the_portfolio_runs_the_same_queries_for_1_or_20_trials(world, client):
    plan_trial_a(world)
    client.force_login(world.crm)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = home(client)
        return len(ctx.captured_queries), len(response.context["crm_portfolio"])

    small, rows = queries()
    assert rows == 1
    grow_portfolio(world, 20)
    large, rows = queries()
    assert rows == 21
    assert large == small
