"""The staffing pages: training, a trial's staff (start/end assignments), the CRA workload."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dashboards.workload import cra_workload
from reminders.models import Deadline
from reminders.services import deadline_complete, deadline_create_manual
from sites.services import site_create
from staffing.models import Assignment, Role, TrainingRecord
from staffing.services import assignment_start, training_record_create
from tests.conftest import api_as, make_user
from tests.factories import (
    SiteFactory,
    TrialFactory,
    UserFactory,
    crm_of,
    monitor_of,
    sponsor_viewer_of,
)
from trials.selectors import trials_visible_to


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def staff_url(trial) -> str:
    return reverse("staffing:trial_staff", args=[trial.pk])


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


@pytest.fixture
def outsider(db):
    """A sponsor viewer of another sponsor's trial."""
    return sponsor_viewer_of(TrialFactory())


@pytest.fixture
def other_trials_site(db):
    return SiteFactory()


@pytest.fixture
def other_trials_crm(other_trials_site):
    return crm_of(other_trials_site.trial)


# -------------------------------------------------------------------------------- training page

def test_training_page_lists_my_records_with_their_status(cra, admin):
    today = timezone.localdate()
    training_record_create(user=cra, kind="iata", by=admin,
                           completed_on=today - timedelta(days=700),
                           expires_on=today + timedelta(days=10))
    html = logged_in(cra).get(reverse("staffing:training")).content.decode()
    assert "IATA dangerous goods" in html
    assert "Expiring within 30 days" in html
    assert "My team&#x27;s training" not in html


def test_training_page_shows_a_crm_their_teams_records(cra, admin, crm):
    training_record_create(user=cra, kind="gcp", by=admin,
                           completed_on=date(2020, 1, 10))
    html = logged_in(crm).get(reverse("staffing:training")).content.decode()
    assert "Cra Tester" in html
    assert "Expired" in html


def test_adding_my_own_training_on_the_page(monitor):
    response = logged_in(monitor).post(reverse("staffing:training"), {
        "kind": "gcp", "completed_on": "2026-03-02", "title": ""})
    assert response.status_code == 302
    record = TrainingRecord.objects.get(user=monitor)
    assert record.expires_on == date(2029, 3, 2)


def test_a_future_completion_is_shown_on_the_form(cra):
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    response = logged_in(cra).post(reverse("staffing:training"), {
        "kind": "gcp", "completed_on": future})
    assert response.status_code == 200
    assert "in the future" in response.content.decode()
    assert not TrainingRecord.objects.exists()


def test_a_sponsor_user_cannot_add_training(sponsor):
    client = logged_in(sponsor)
    assert client.get(reverse("staffing:training")).status_code == 200
    response = client.post(reverse("staffing:training"), {
        "kind": "gcp", "completed_on": "2026-03-02"})
    assert response.status_code == 403
    assert not TrainingRecord.objects.exists()


# ----------------------------------------------------------------------------- trial staff page

@pytest.mark.parametrize(("persona", "status"), [
    ("admin", 200), ("crm", 200), ("cra", 403), ("monitor", 403), ("sponsor", 403),
    ("outsider", 404), ("other_trials_crm", 404),
])
def test_trial_staff_page_is_for_the_trials_staff_managers(trial, request, persona, status):
    response = logged_in(request.getfixturevalue(persona)).get(staff_url(trial))
    assert response.status_code == status


def test_trial_staff_page_lists_the_assignments(crm, cra, trial, site):
    html = logged_in(crm).get(staff_url(trial)).content.decode()
    assert "Cra Tester" in html
    assert "Clinical research associate" in html
    assert site.institution in html


def test_adding_an_assignment_on_the_page_grants_access(crm, trial, second_site):
    newcomer = UserFactory(username="new_cra")
    response = logged_in(crm).post(staff_url(trial), {
        "action": "start", "user": newcomer.pk, "role": "CRA", "site": second_site.pk,
        "start_date": timezone.localdate().isoformat(), "allocation": "0.4"})
    assert response.status_code == 302
    assignment = Assignment.objects.get(user=newcomer)
    assert (assignment.site, assignment.allocation) == (second_site, Decimal("0.4"))
    assert list(trials_visible_to(user=newcomer)) == [trial]


def test_a_site_of_another_trial_is_refused(crm, trial, other_trials_site):
    newcomer = UserFactory(username="new_cra")
    response = logged_in(crm).post(staff_url(trial), {
        "action": "start", "user": newcomer.pk, "role": "CRA", "site": other_trials_site.pk,
        "allocation": "0.4"})
    assert response.status_code == 200
    assert not Assignment.objects.filter(user=newcomer).exists()


def test_a_service_refusal_is_shown_on_the_form(crm, trial, monitor, site):
    response = logged_in(crm).post(staff_url(trial), {
        "action": "start", "user": monitor.pk, "role": "MEDICAL_MONITOR",
        "site": site.pk, "allocation": "0.4"})
    assert response.status_code == 200
    assert "Only a CRA can be assigned to a single site." in response.content.decode()


def test_ending_an_assignment_on_the_page(crm, trial, cra_assignment):
    today = timezone.localdate()
    response = logged_in(crm).post(staff_url(trial), {
        "action": "end", "assignment": cra_assignment.pk, "end_date": today.isoformat(),
        "change_reason": "Handed over to a colleague"})
    assert response.status_code == 302
    cra_assignment.refresh_from_db()
    assert cra_assignment.end_date == today
    assert cra_assignment.history.first().history_change_reason == (
        "Handed over to a colleague")


def test_ending_an_assignment_needs_a_reason(crm, trial, cra_assignment):
    response = logged_in(crm).post(staff_url(trial), {
        "action": "end", "assignment": cra_assignment.pk,
        "end_date": timezone.localdate().isoformat(), "change_reason": ""})
    assert response.status_code == 200
    cra_assignment.refresh_from_db()
    assert cra_assignment.end_date is None


def test_ending_another_trials_assignment_is_refused(other_trials_crm, crm, trial):
    crm_b_assignment = Assignment.objects.get(user=other_trials_crm)
    response = logged_in(crm).post(staff_url(trial), {
        "action": "end", "assignment": crm_b_assignment.pk,
        "end_date": timezone.localdate().isoformat(), "change_reason": "Not mine"})
    assert response.status_code == 200
    crm_b_assignment.refresh_from_db()
    assert crm_b_assignment.end_date is None


@pytest.mark.parametrize("persona", ["cra", "outsider"])
def test_others_cannot_post_to_the_trial_staff_page(trial, cra_assignment, request, persona):
    response = logged_in(request.getfixturevalue(persona)).post(staff_url(trial), {
        "action": "end", "assignment": cra_assignment.pk,
        "end_date": timezone.localdate().isoformat(), "change_reason": "Sneaky"})
    assert response.status_code == (403 if persona == "cra" else 404)
    cra_assignment.refresh_from_db()
    assert cra_assignment.end_date is None


# -------------------------------------------------------------------------------- workload page

@pytest.mark.parametrize(("persona", "status"), [
    ("admin", 200), ("crm", 200), ("other_trials_crm", 200), ("cra", 403), ("monitor", 403),
    ("sponsor", 403), ("outsider", 403),
])
def test_workload_page_is_for_crms_and_superusers(request, persona, status):
    user = request.getfixturevalue(persona)
    assert logged_in(user).get(reverse("staffing:workload")).status_code == status


def plan(world, owner, kind: str, in_days: float, trial=None) -> Deadline:
    return deadline_create_manual(
        by=world.admin, kind=kind, trial=trial or world.trial_a, owner=owner,
        due_at=timezone.now() + timedelta(days=in_days), title=f"{kind} in {in_days} days")


def workload_scenario(world):
    """The CRA of A also covers site 201 of trial B (over-allocated); a part-timer is not."""
    since = timezone.localdate() - timedelta(days=30)
    assignment_start(user=world.cra, trial=world.trial_b, site=world.site_b1, role=Role.CRA,
                     by=world.admin, start_date=since, allocation=Decimal("0.5"))
    part_timer = make_user("part_timer", world.cro, capacity=Decimal("0.5"))
    assignment_start(user=part_timer, trial=world.trial_a, site=world.site_a2, role=Role.CRA,
                     by=world.admin, start_date=since, allocation=Decimal("0.5"))
    for days in (3, 20, 55):                       # three visits within 8 weeks
        plan(world, world.cra, "monitoring_visit", days)
    plan(world, world.cra, "monitoring_visit", 70)  # beyond 8 weeks
    plan(world, world.cra, "monitoring_visit", -2)  # past: not upcoming
    deadline_complete(deadline=plan(world, world.cra, "monitoring_visit", 5), by=world.cra)
    plan(world, world.cra, "visit_report", -4)      # overdue
    plan(world, world.cra, "visit_report", -1, trial=world.trial_b)  # overdue, on B
    plan(world, world.cra, "visit_report", 6)       # not yet due
    deadline_complete(deadline=plan(world, world.cra, "visit_report", -9), by=world.cra)
    plan(world, part_timer, "visit_report", -1)
    return part_timer


def test_workload_numbers(world):
    part_timer = workload_scenario(world)
    page = cra_workload(user=world.crm, today=timezone.localdate())
    rows = {row.cra: row for row in page.object_list}
    assert set(rows) == {world.cra, part_timer}
    cra = rows[world.cra]
    assert (cra.site_count, cra.trial_count) == (2, 2)
    assert cra.visible_sites == [f"A-001 / 101 {world.site_a1.institution}"]
    assert cra.hidden_site_count == 1
    assert (cra.visits_next_8_weeks, cra.overdue_reports) == (3, 2)
    assert (cra.allocation, cra.over_allocated) == (Decimal("1.5"), True)
    other = rows[part_timer]
    assert (other.site_count, other.trial_count, other.visits_next_8_weeks,
            other.overdue_reports) == (1, 1, 0, 1)
    assert (other.allocation, other.over_allocated) == (Decimal("0.5"), False)


def test_workload_page_names_only_the_sites_the_viewer_can_see(world):
    workload_scenario(world)
    html = logged_in(world.crm).get(reverse("staffing:workload")).content.decode()
    assert world.site_a1.institution in html
    assert world.site_b1.institution not in html
    assert "+1 on other trials" in html
    assert "Over-allocated" in html
    admin_html = logged_in(world.admin).get(reverse("staffing:workload")).content.decode()
    assert world.site_b1.institution in admin_html


def test_an_ended_assignment_leaves_the_workload(cra_assignment, admin, crm):
    from staffing.services import assignment_end

    assignment_end(assignment=cra_assignment, by=admin, reason="Left",
                   end_date=timezone.localdate() - timedelta(days=1))
    assert cra_workload(user=crm, today=timezone.localdate()).object_list == []


# -------------------------------------------------------------------------- bounded query counts

def more_cras(world, n: int) -> None:
    """n more CRAs, each on three sites over trials A and B, with deadlines and training."""
    since = timezone.localdate() - timedelta(days=30)
    for i in range(n):
        cra = make_user(f"cra_extra{i}", world.cro)
        for j, trial in enumerate((world.trial_a, world.trial_a, world.trial_b)):
            site = site_create(trial=trial, by=world.admin, number=f"{5}{i:02d}{j}",
                               institution=f"Extra {i}-{j}", country="DE")
            assignment_start(user=cra, trial=trial, site=site, role=Role.CRA, by=world.admin,
                             start_date=since, allocation=Decimal("0.3"))
        plan(world, cra, "monitoring_visit", 10)
        plan(world, cra, "visit_report", -1)
        training_record_create(user=cra, kind="gcp", by=world.admin,
                               completed_on=date(2025, 1, 1))


def queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = fn()
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_workload_page_queries_do_not_grow_with_cras(world):
    client = logged_in(world.crm)
    training_record_create(user=world.cra, kind="gcp", by=world.admin,
                           completed_on=date(2025, 1, 1))
    plan(world, world.cra, "monitoring_visit", 10)
    one = queries(lambda: client.get(reverse("staffing:workload")))
    more_cras(world, 19)
    assert len(cra_workload(user=world.crm, today=timezone.localdate()).object_list) == 20
    twenty = queries(lambda: client.get(reverse("staffing:workload")))
    assert twenty == one, f"{one} queries with 1 CRA, {twenty} with 20"


def test_training_records_api_list_queries_do_not_grow_with_cras(world):
    client = api_as(world.crm)
    training_record_create(user=world.cra, kind="gcp", by=world.admin,
                           completed_on=date(2025, 1, 1))
    url = "/api/v1/training-records/?page_size=200"
    one = queries(lambda: client.get(url))
    more_cras(world, 19)
    assert client.get(url).json()["count"] == 20
    twenty = queries(lambda: client.get(url))
    assert twenty == one, f"{one} queries with 1 CRA, {twenty} with 20"


def test_training_page_queries_do_not_grow_with_cras(world):
    client = logged_in(world.crm)
    training_record_create(user=world.cra, kind="gcp", by=world.admin,
                           completed_on=date(2025, 1, 1))
    one = queries(lambda: client.get(reverse("staffing:training")))
    more_cras(world, 19)
    twenty = queries(lambda: client.get(reverse("staffing:training")))
    assert twenty == one, f"{one} queries with 1 CRA, {twenty} with 20"


def test_workload_is_paged_by_name_with_each_page_own_figures(world, monkeypatch):
    from dashboards import workload

    monkeypatch.setattr(workload, "PER_PAGE", 2)
    workload_scenario(world)
    more_cras(world, 1)
    first = cra_workload(user=world.crm, today=timezone.localdate())
    second = cra_workload(user=world.crm, today=timezone.localdate(), page=2)
    assert (first.paginator.count, first.paginator.num_pages) == (3, 2)
    listed = [row.cra for row in [*first.object_list, *second.object_list]]
    assert listed == sorted(listed, key=lambda u: (u.last_name, u.first_name, u.username))
    assert len(set(listed)) == 3
    rows = {row.cra: row for row in [*first.object_list, *second.object_list]}
    assert (rows[world.cra].visits_next_8_weeks, rows[world.cra].overdue_reports) == (3, 2)
    html = logged_in(world.crm).get(reverse("staffing:workload") + "?page=2").content.decode()
    assert "Page 2 of 2" in html
    assert logged_in(world.crm).get(reverse("staffing:workload") + "?page=x").status_code == 200
