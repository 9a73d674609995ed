"""The trial pages: create, status, milestones, enrollment against plan, sites, amendments, ICFs."""

import json
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from access.checks import may_change_trial
from sites.models import Site
from sites.services import site_create, subject_create
from staffing.models import Role
from tests.factories import (
    AdminFactory,
    CroFactory,
    MilestoneFactory,
    SiteFactory,
    TrialFactory,
    monitor_of,
    sponsor_viewer_of,
)
from trials.models import Milestone, ProtocolAmendment, Trial
from trials.services import amendment_create, milestone_create


def detail(trial) -> str:
    return reverse("trials:detail", args=[trial.pk])


def html_of(response) -> str:
    return response.content.decode()


@pytest.fixture
def trial(db):
    return TrialFactory(protocol_number="A-001", target_enrollment=100)


@pytest.fixture
def site(trial):
    return SiteFactory(trial=trial, number="101", country="DE")


@pytest.fixture
def second_site(trial):
    return SiteFactory(trial=trial, number="102", country="FR")


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
def trial_sponsor(trial):
    return trial.sponsor


@pytest.fixture
def milestone(trial):
    """The protocol, final five days after its plan."""
    return MilestoneFactory(trial=trial, kind="protocol_final", planned_date=date(2026, 1, 15),
                            actual_date=date(2026, 1, 20))


@pytest.fixture
def other_trial(db):
    return TrialFactory()


# ---------------------------------------------------------------------------- create a trial

NEW_TRIAL = {"protocol_number": "N-100", "title": "A new trial", "phase": "II",
             "target_enrollment": 40, "safety_timezone": "Europe/Paris"}


def test_a_crm_with_the_permission_creates_a_trial_and_becomes_its_crm(crm, trial_sponsor, client):
    crm.user_permissions.add(Permission.objects.get(codename="add_trial"))
    client.force_login(crm)
    assert client.get(reverse("trials:create")).status_code == 200

    response = client.post(reverse("trials:create"), {**NEW_TRIAL, "sponsor": trial_sponsor.pk})

    trial = Trial.objects.get(protocol_number="N-100")
    assert response.status_code == 302
    assert response["Location"] == detail(trial)
    assert trial.status == "planning"
    assert trial.assignments.filter(user=crm, role=Role.CRM).exists()
    assert may_change_trial(user=crm, trial=trial)


def test_the_new_trial_button_shows_only_to_those_who_may_create(crm, client):
    client.force_login(crm)
    assert 'id="trial-create-link"' not in html_of(client.get(reverse("dashboards:home")))
    crm.user_permissions.add(Permission.objects.get(codename="add_trial"))
    assert 'id="trial-create-link"' in html_of(client.get(reverse("dashboards:home")))


def test_a_trial_form_error_is_shown_and_nothing_is_created(admin, trial, client):
    client.force_login(admin)
    response = client.post(reverse("trials:create"), {**NEW_TRIAL, "sponsor": CroFactory().pk,
                                                      "protocol_number": "A-001"})
    assert response.status_code == 200
    assert "already exists" in html_of(response)
    assert not Trial.objects.filter(title="A new trial").exists()


@pytest.mark.parametrize("persona", ["crm", "cra", "monitor", "sponsor", "outsider"])
def test_who_lacks_the_create_permission_gets_403(trial_sponsor, request, client, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("trials:create")).status_code == 403
    response = client.post(reverse("trials:create"), {**NEW_TRIAL, "sponsor": trial_sponsor.pk})
    assert response.status_code == 403
    assert not Trial.objects.filter(protocol_number="N-100").exists()


# ------------------------------------------------------------------------------- status

def test_the_status_form_offers_only_the_allowed_next_statuses(crm, trial, client):
    client.force_login(crm)
    response = client.get(detail(trial))
    form = response.context["transition_form"]
    assert [value for value, _ in form.fields["status"].widget.choices] == [
        "startup", "terminated"]


def test_the_crm_moves_the_trial_along_with_a_reason(crm, trial, client):
    client.force_login(crm)
    response = client.post(reverse("trials:transition", args=[trial.pk]),
                           {"status": "startup", "change_reason": "Protocol signed off"})
    assert response.status_code == 302
    trial.refresh_from_db()
    assert trial.status == "startup"
    assert trial.history.first().history_change_reason == "Protocol signed off"


def test_a_refused_transition_shows_the_rule_and_changes_nothing(crm, trial, client):
    client.force_login(crm)
    response = client.post(reverse("trials:transition", args=[trial.pk]),
                           {"status": "completed", "change_reason": "Skip ahead"})
    assert response.status_code == 200
    assert "A trial cannot go from Planning to Completed" in html_of(response)
    trial.refresh_from_db()
    assert trial.status == "planning"


def test_a_transition_without_a_reason_is_refused(crm, trial, client):
    client.force_login(crm)
    response = client.post(reverse("trials:transition", args=[trial.pk]),
                           {"status": "startup"})
    assert response.status_code == 200
    assert "A reason for the change is required." in html_of(response)
    trial.refresh_from_db()
    assert trial.status == "planning"


# ---------------------------------------------------------------------------- milestones

def test_milestones_show_slippage_and_late_ones_stand_out(trial, admin, sponsor, milestone, client):
    today = timezone.localdate()
    milestone_create(trial=trial, by=admin, kind="fpi",
                     baseline_date=today - timedelta(days=30),
                     planned_date=today + timedelta(days=12))
    client.force_login(sponsor)
    response = client.get(detail(trial))
    html = html_of(response)
    assert '<span class="late">+42</span>' in html
    assert '<span class="late">+5</span>' in html  # protocol final, reached 5 days late
    chart = json.loads(html.split('id="milestone-data" type="application/json">')[1]
                       .split("</script>")[0])
    assert chart["labels"] == ["Protocol final", "First patient in"]
    baseline = {"x": (today - timedelta(days=30)).isoformat(), "y": "First patient in"}
    assert baseline in chart["baseline"]


def test_the_crm_adds_and_re_plans_a_milestone_with_a_reason(crm, trial, client):
    client.force_login(crm)
    planned = timezone.localdate() + timedelta(days=60)
    response = client.post(reverse("trials:milestone_create", args=[trial.pk]),
                           {"kind": "lpi", "planned_date": planned.isoformat()})
    assert response.status_code == 302
    milestone = Milestone.objects.get(trial=trial, kind="lpi")
    assert milestone.baseline_date == planned

    edit = reverse("trials:milestone_edit", args=[milestone.pk])
    assert client.get(edit).status_code == 200
    later = (planned + timedelta(days=20)).isoformat()
    response = client.post(edit, {"kind": "lpi", "baseline_date": planned.isoformat(),
                                  "planned_date": later})
    assert response.status_code == 200
    assert "A reason for the change is required." in html_of(response)
    response = client.post(edit, {"kind": "lpi", "baseline_date": planned.isoformat(),
                                  "planned_date": later, "change_reason": "Slow start-up"})
    assert response.status_code == 302
    milestone.refresh_from_db()
    assert (milestone.baseline_date, milestone.planned_date.isoformat()) == (planned, later)


def test_a_duplicate_milestone_is_refused_on_the_trial_page(crm, trial, milestone, client):
    client.force_login(crm)
    response = client.post(reverse("trials:milestone_create", args=[trial.pk]),
                           {"kind": "protocol_final", "planned_date": "2026-02-01"})
    assert response.status_code == 200
    assert "This trial already has that milestone." in html_of(response)
    assert response.context["milestone_form"].errors
    assert trial.milestones.count() == 1


# -------------------------------------------------------------------- amendments and ICFs

def test_the_crm_records_amendments_and_icf_versions(crm, trial, client):
    client.force_login(crm)
    response = client.post(reverse("trials:amendment_create", args=[trial.pk]),
                           {"version": "2.0", "approved_on": "2026-06-01", "summary": "New arm"})
    assert response.status_code == 302
    response = client.post(reverse("trials:consent_version_create", args=[trial.pk]),
                           {"version": "2.0", "summary": "New arm"})
    assert response.status_code == 302
    html = html_of(client.get(detail(trial)))
    assert "<strong>2.0</strong>, approved 01-Jun-2026 — New arm" in html
    assert "<strong>ICF 2.0</strong>" in html


def test_a_repeated_amendment_version_is_refused(trial, crm, client):
    amendment_create(trial=trial, by=AdminFactory(), version="1.1",
                     approved_on=date(2026, 3, 1), summary="Dose table fixed")
    client.force_login(crm)
    response = client.post(reverse("trials:amendment_create", args=[trial.pk]),
                           {"version": "1.1"})
    assert response.status_code == 200
    assert "already has an amendment with that version" in html_of(response)
    assert ProtocolAmendment.objects.filter(trial=trial).count() == 1


# ----------------------------------------------------------------------------- add a site

def test_the_crm_adds_a_site_to_the_trial(crm, trial, client):
    client.force_login(crm)
    url = reverse("trials:site_create", args=[trial.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"number": "103", "institution": "Gamma Klinik", "country": "at",
                                 "target_enrollment": 12, "planned_activation_on": "2026-12-01"})
    site = Site.objects.get(trial=trial, number="103")
    assert response.status_code == 302
    assert response["Location"] == reverse("sites:detail", args=[site.pk])
    assert (site.country, site.status) == ("AT", "identified")


def test_a_repeated_site_number_is_refused(crm, trial, site, client):
    client.force_login(crm)
    response = client.post(reverse("trials:site_create", args=[trial.pk]),
                           {"number": "101", "institution": "Again", "country": "DE",
                            "target_enrollment": 1})
    assert response.status_code == 200
    assert "already has a site with that number" in html_of(response)


# --------------------------------------------------------------------- enrollment vs plan

def test_the_enrollment_summary_compares_with_the_plan(world, client):
    today = timezone.localdate()
    milestone_create(trial=world.trial_a, by=world.admin, kind="fpi",
                     planned_date=today - timedelta(days=100))
    milestone_create(trial=world.trial_a, by=world.admin, kind="lpi",
                     planned_date=today + timedelta(days=100))
    client.force_login(world.crm)
    response = client.get(detail(world.trial_a))
    html = html_of(response)
    summary = response.context["summary"]
    assert (summary["enrolled"], summary["target"], summary["planned_today"]) == (1, 100, 50)
    assert '<strong id="planned-today">50</strong>' in html
    assert '<span class="late" id="behind-plan">49 behind plan</span>' in html
    chart = response.context["enrollment_chart"]
    assert chart["planned"] == [{"x": (today - timedelta(days=100)).isoformat(), "y": 0},
                                {"x": (today + timedelta(days=100)).isoformat(), "y": 100}]
    assert chart["actual"][-1] == {"x": today.isoformat(), "y": 1}
    assert summary["forecast"] is not None  # the pooled model, from the planned FPI-LPI
    assert chart["forecast"]["median"][-1]["x"] == summary["forecast"]["median"].isoformat()


def test_the_cra_sees_only_their_site_in_the_tables(cra, trial, second_site, client):
    client.force_login(cra)
    response = client.get(detail(trial))
    assert [site.number for site in response.context["sites"]] == ["101"]
    assert [row["country"] for row in response.context["countries"]] == ["DE"]


# ----------------------------------------------------------------------------- permissions

@pytest.mark.parametrize("persona", ["cra", "monitor", "sponsor"])
def test_those_who_may_not_change_the_trial_see_no_forms_and_get_403(world, client, persona):
    client.force_login(getattr(world, persona))
    main = html_of(client.get(detail(world.trial_a))).split("<main")[1]
    assert "<form" not in main
    assert 'id="site-create-link"' not in main
    posts = {
        "trials:transition": {"status": "startup", "change_reason": "x"},
        "trials:milestone_create": {"kind": "lpi", "planned_date": "2027-01-01"},
        "trials:amendment_create": {"version": "9"},
        "trials:consent_version_create": {"version": "9"},
        "trials:site_create": {"number": "999", "institution": "X", "country": "DE"},
    }
    for name, data in posts.items():
        response = client.post(reverse(name, args=[world.trial_a.pk]), data)
        assert response.status_code == 403, name
    response = client.post(reverse("trials:milestone_edit", args=[world.milestone_a.pk]),
                           {"kind": "protocol_final", "change_reason": "x"})
    assert response.status_code == 403
    world.trial_a.refresh_from_db()
    assert world.trial_a.status == "planning"
    assert not Site.objects.filter(number="999").exists()


def test_another_trial_is_a_404(crm, other_trial, client):
    client.force_login(crm)
    assert client.get(detail(other_trial)).status_code == 404
    response = client.post(reverse("trials:transition", args=[other_trial.pk]),
                           {"status": "startup", "change_reason": "x"})
    assert response.status_code == 404
    assert client.get(reverse("trials:site_create", args=[other_trial.pk])).status_code == 404
    other_trial.refresh_from_db()
    assert other_trial.status == "planning"


# --------------------------------------------------------------------------- bounded queries

def grow_trial(world, n: int) -> None:
    """n more sites (half active), subjects (enrolled over past days) and milestones."""
    today = timezone.localdate()
    for i in range(n):
        site = site_create(trial=world.trial_a, by=world.admin, number=f"5{i:02d}",
                           institution=f"Clinic {i}", country=("IT", "ES")[i % 2],
                           target_enrollment=3, planned_activation_on=today - timedelta(days=i))
        if i % 2:
            Site.objects.filter(pk=site.pk).update(status="active",
                                                   activated_on=today - timedelta(days=50 + i))
        subject_create(site=site, by=world.admin, number=f"G-{i}", status="enrolled",
                       enrolled_on=today - timedelta(days=i))
        milestone_create(trial=world.trial_a, by=world.admin, kind="other", name=f"Step {i}",
                         planned_date=today + timedelta(days=i))


def queries_of(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_trial_page_runs_the_same_queries_for_1_or_50_sites(world, client):
    today = timezone.localdate()
    milestone_create(trial=world.trial_a, by=world.admin, kind="fpi",
                     planned_date=today - timedelta(days=100))
    milestone_create(trial=world.trial_a, by=world.admin, kind="lpi",
                     planned_date=today + timedelta(days=300))
    client.force_login(world.crm)
    small = queries_of(client, detail(world.trial_a))
    grow_trial(world, 50)
    large = queries_of(client, detail(world.trial_a))
    assert large == small
