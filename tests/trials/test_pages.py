"""The trial pages: create, status, milestones, enrollment against plan, sites, amendments, ICFs."""

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sites.models import Site
from sites.services import site_create, subject_create
from staffing.models import Role
from trials.models import Milestone, ProtocolAmendment, Trial
from trials.selectors import trial_has_permission
from trials.services import milestone_create


def detail(world, trial=None) -> str:
    return reverse("trials:detail", args=[(trial or world.trial_a).pk])


def html_of(response) -> str:
    return response.content.decode()


# ---------------------------------------------------------------------------- create a trial

NEW_TRIAL = {"protocol_number": "N-100", "title": "A new trial", "phase": "II",
             "target_enrollment": 40, "safety_timezone": "Europe/Paris"}


def test_a_crm_with_the_permission_creates_a_trial_and_becomes_its_crm(world, client):
    world.crm.user_permissions.add(Permission.objects.get(codename="add_trial"))
    client.force_login(world.crm)
    assert client.get(reverse("trials:create")).status_code == 200

    response = client.post(reverse("trials:create"), {**NEW_TRIAL, "sponsor": world.sponsor_a.pk})

    trial = Trial.objects.get(protocol_number="N-100")
    assert response.status_code == 302
    assert response["Location"] == detail(world, trial)
    assert trial.status == "planning"
    assert trial.assignments.filter(user=world.crm, role=Role.CRM).exists()
    assert trial_has_permission(user=world.crm, trial=trial, codename="change_trial")


def test_the_new_trial_button_shows_only_to_those_who_may_create(world, client):
    client.force_login(world.crm)
    assert 'id="trial-create-link"' not in html_of(client.get(reverse("dashboards:home")))
    world.crm.user_permissions.add(Permission.objects.get(codename="add_trial"))
    assert 'id="trial-create-link"' in html_of(client.get(reverse("dashboards:home")))


def test_a_trial_form_error_is_shown_and_nothing_is_created(world, client):
    client.force_login(world.admin)
    response = client.post(reverse("trials:create"), {**NEW_TRIAL, "sponsor": world.cro.pk,
                                                      "protocol_number": "A-001"})
    assert response.status_code == 200
    assert "already exists" in html_of(response)
    assert not Trial.objects.filter(title="A new trial").exists()


@pytest.mark.parametrize("persona", ["crm", "cra", "monitor", "sponsor", "outsider"])
def test_who_lacks_the_create_permission_gets_403(world, client, persona):
    client.force_login(getattr(world, persona))
    assert client.get(reverse("trials:create")).status_code == 403
    response = client.post(reverse("trials:create"), {**NEW_TRIAL, "sponsor": world.sponsor_a.pk})
    assert response.status_code == 403
    assert not Trial.objects.filter(protocol_number="N-100").exists()


# ------------------------------------------------------------------------------- status

def test_the_status_form_offers_only_the_allowed_next_statuses(world, client):
    client.force_login(world.crm)
    response = client.get(detail(world))
    form = response.context["transition_form"]
    assert [value for value, _ in form.fields["status"].widget.choices] == [
        "startup", "terminated"]


def test_the_crm_moves_the_trial_along_with_a_reason(world, client):
    client.force_login(world.crm)
    response = client.post(reverse("trials:transition", args=[world.trial_a.pk]),
                           {"status": "startup", "change_reason": "Protocol signed off"})
    assert response.status_code == 302
    world.trial_a.refresh_from_db()
    assert world.trial_a.status == "startup"
    assert world.trial_a.history.first().history_change_reason == "Protocol signed off"


def test_a_refused_transition_shows_the_rule_and_changes_nothing(world, client):
    client.force_login(world.crm)
    response = client.post(reverse("trials:transition", args=[world.trial_a.pk]),
                           {"status": "completed", "change_reason": "Skip ahead"})
    assert response.status_code == 200
    assert "A trial cannot go from Planning to Completed" in html_of(response)
    world.trial_a.refresh_from_db()
    assert world.trial_a.status == "planning"


def test_a_transition_without_a_reason_is_refused(world, client):
    client.force_login(world.crm)
    response = client.post(reverse("trials:transition", args=[world.trial_a.pk]),
                           {"status": "startup"})
    assert response.status_code == 200
    assert "A reason for the change is required." in html_of(response)
    world.trial_a.refresh_from_db()
    assert world.trial_a.status == "planning"


# ---------------------------------------------------------------------------- milestones

def test_milestones_show_slippage_and_late_ones_stand_out(world, client):
    today = timezone.localdate()
    milestone_create(trial=world.trial_a, by=world.admin, kind="fpi",
                     baseline_date=today - timedelta(days=30),
                     planned_date=today + timedelta(days=12))
    client.force_login(world.sponsor)
    response = client.get(detail(world))
    html = html_of(response)
    assert '<span class="late">+42</span>' in html
    assert '<span class="late">+5</span>' in html  # protocol final, reached 5 days late
    chart = json.loads(html.split('id="milestone-data" type="application/json">')[1]
                       .split("</script>")[0])
    assert chart["labels"] == ["Protocol final", "First patient in"]
    baseline = {"x": (today - timedelta(days=30)).isoformat(), "y": "First patient in"}
    assert baseline in chart["baseline"]


def test_the_crm_adds_and_re_plans_a_milestone_with_a_reason(world, client):
    client.force_login(world.crm)
    planned = timezone.localdate() + timedelta(days=60)
    response = client.post(reverse("trials:milestone_create", args=[world.trial_a.pk]),
                           {"kind": "lpi", "planned_date": planned.isoformat()})
    assert response.status_code == 302
    milestone = Milestone.objects.get(trial=world.trial_a, kind="lpi")
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


def test_a_duplicate_milestone_is_refused_on_the_trial_page(world, client):
    client.force_login(world.crm)
    response = client.post(reverse("trials:milestone_create", args=[world.trial_a.pk]),
                           {"kind": "protocol_final", "planned_date": "2026-02-01"})
    assert response.status_code == 200
    assert "This trial already has that milestone." in html_of(response)
    assert response.context["milestone_form"].errors
    assert world.trial_a.milestones.count() == 1


# -------------------------------------------------------------------- amendments and ICFs

def test_the_crm_records_amendments_and_icf_versions(world, client):
    client.force_login(world.crm)
    response = client.post(reverse("trials:amendment_create", args=[world.trial_a.pk]),
                           {"version": "2.0", "approved_on": "2026-06-01", "summary": "New arm"})
    assert response.status_code == 302
    response = client.post(reverse("trials:consent_version_create", args=[world.trial_a.pk]),
                           {"version": "2.0", "summary": "New arm"})
    assert response.status_code == 302
    html = html_of(client.get(detail(world)))
    assert "<strong>2.0</strong>, approved 2026-06-01 — New arm" in html
    assert "<strong>ICF 2.0</strong>" in html


def test_a_repeated_amendment_version_is_refused(world, client):
    client.force_login(world.crm)
    response = client.post(reverse("trials:amendment_create", args=[world.trial_a.pk]),
                           {"version": "1.1"})
    assert response.status_code == 200
    assert "already has an amendment with that version" in html_of(response)
    assert ProtocolAmendment.objects.filter(trial=world.trial_a).count() == 1


# ----------------------------------------------------------------------------- add a site

def test_the_crm_adds_a_site_to_the_trial(world, client):
    client.force_login(world.crm)
    url = reverse("trials:site_create", args=[world.trial_a.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"number": "103", "institution": "Gamma Klinik", "country": "at",
                                 "target_enrollment": 12, "planned_activation_on": "2026-12-01"})
    site = Site.objects.get(trial=world.trial_a, number="103")
    assert response.status_code == 302
    assert response["Location"] == reverse("sites:detail", args=[site.pk])
    assert (site.country, site.status) == ("AT", "identified")


def test_a_repeated_site_number_is_refused(world, client):
    client.force_login(world.crm)
    response = client.post(reverse("trials:site_create", args=[world.trial_a.pk]),
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
    response = client.get(detail(world))
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


def test_the_cra_sees_only_their_site_in_the_tables(world, client):
    client.force_login(world.cra)
    response = client.get(detail(world))
    assert [site.number for site in response.context["sites"]] == ["101"]
    assert [row["country"] for row in response.context["countries"]] == ["DE"]


# ----------------------------------------------------------------------------- permissions

@pytest.mark.parametrize("persona", ["cra", "monitor", "sponsor"])
def test_those_who_may_not_change_the_trial_see_no_forms_and_get_403(world, client, persona):
    client.force_login(getattr(world, persona))
    main = html_of(client.get(detail(world))).split("<main")[1]
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


def test_another_trial_is_a_404(world, client):
    client.force_login(world.crm)
    assert client.get(detail(world, world.trial_b)).status_code == 404
    response = client.post(reverse("trials:transition", args=[world.trial_b.pk]),
                           {"status": "startup", "change_reason": "x"})
    assert response.status_code == 404
    assert client.get(reverse("trials:site_create", args=[world.trial_b.pk])).status_code == 404
    world.trial_b.refresh_from_db()
    assert world.trial_b.status == "planning"


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
    small = queries_of(client, detail(world))
    grow_trial(world, 50)
    large = queries_of(client, detail(world))
    assert large == small
