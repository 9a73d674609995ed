"""A trial's safety page and the safety line of the trial page: counts by aggregate queries,
the whole picture for CRO staff, aggregate counts only for the sponsor's viewers (never a case,
a subject or a link to a case), nothing for anyone else; bounded queries."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from safety.models import ReportingObligation
from safety.services import adverse_event_review, obligation_submit
from tests.conftest import PASSWORD
from tests.factories import (
    AdverseEventFactory,
    SiteFactory,
    SubjectFactory,
    TrialFactory,
    cra_of,
    ctcae_term,
    monitor_of,
    sponsor_viewer_of,
)


@pytest.fixture
def trial(db):
    return TrialFactory(ind_number="123456")


def case(subject, *, late_by_site: bool = False, **fields):
    """A serious case (febrile neutropenia, hospitalisation) the sponsor learnt of just now,
    or, reported late, two days after the site did."""
    sponsor_aware = timezone.now() - timedelta(minutes=5)
    site_aware = sponsor_aware - timedelta(days=2 if late_by_site else 0)
    return AdverseEventFactory(subject=subject, site_awareness_at=site_aware,
                               sponsor_awareness_at=sponsor_aware, **fields)


def susar(subject, monitor, *, days_ago: int = 20):
    """Reviewed `days_ago` days ago as unexpected and related: two FDA 15-day obligations
    (FDA, investigators), overdue by days_ago - 15 days."""
    moment = timezone.now() - timedelta(days=days_ago)
    with time_machine.travel(moment, tick=False):
        event = case(subject)
        adverse_event_review(event=event, by=monitor, password=PASSWORD,
                             sponsor_causality="related", expectedness="unexpected")
    return event


@pytest.fixture
def three_cases(trial, site, subject, monitor):
    """A SUSAR whose FDA report went late and investigators' letter on time; a serious case
    pending review at a second site, which reported it late; a non-serious case."""
    event = susar(subject, monitor)
    fda, investigators = (ReportingObligation.objects.get(adverse_event=event, recipient=r)
                          for r in ("FDA", "INVESTIGATORS"))
    obligation_submit(obligation=fda, by=monitor, submitted_at=timezone.now(), reference="F1")
    obligation_submit(obligation=investigators, by=monitor, reference="I1",
                      submitted_at=investigators.clock_start_at + timedelta(days=1))
    second = SiteFactory(trial=trial, number="202")
    pending = case(SubjectFactory(site=second, enrolled=True, number="202-0001"),
                   late_by_site=True, verbatim_term="rash",
                   term=ctcae_term("Rash maculo-papular"))
    mild = case(subject, seriousness_criteria=[], verbatim_term="fever")
    return {"susar": event, "pending": pending, "mild": mild, "second": second}


def page_of(client, user, trial):
    client.force_login(user)
    return client.get(reverse("safety:trial_safety", args=[trial.pk]))


# ------------------------------------------------------------------------------- the counts

def test_the_safety_page_counts_cases_obligations_and_on_time_reports(
        trial, monitor, three_cases, client):
    context = page_of(client, monitor, trial).context
    assert context["cases"] == {"cases": 3, "serious": 2, "pending": 1, "susars": 1}
    obligations = context["obligations"]
    assert {k: obligations[k] for k in ("open", "overdue", "submitted_on_time",
                                        "submitted_late", "cancelled")} == {
        "open": 0, "overdue": 0, "submitted_on_time": 1, "submitted_late": 1, "cancelled": 0}
    assert context["on_time_rate"] == 50


def test_serious_cases_are_counted_per_meddra_soc(trial, monitor, three_cases, client):
    by_soc = page_of(client, monitor, trial).context["by_soc"]
    assert sorted((row["term__soc"], row["cases"]) for row in by_soc) == [
        ("Blood and lymphatic system disorders", 1),
        ("Skin and subcutaneous tissue disorders", 1),
    ]


def test_site_timeliness_counts_late_site_reports_among_serious_ones(
        trial, site, monitor, three_cases, client):
    response = page_of(client, monitor, trial)
    rows = {row["site__number"]: (row["serious_reports"], row["late_reports"], row["late_pct"])
            for row in response.context["sites"]}
    assert rows == {site.number: (1, 0, 0), "202": (1, 1, 100)}


def test_staff_see_the_latest_cases_with_links(trial, monitor, three_cases, client):
    response = page_of(client, monitor, trial)
    html = response.content.decode()
    for name in ("susar", "pending", "mild"):
        assert reverse("safety:ae_detail", args=[three_cases[name].pk]) in html
    assert "202-0001" in html
    assert [e.pk for e in response.context["latest"]] == [
        three_cases[name].pk for name in ("mild", "pending", "susar")]  # newest first


def test_open_obligations_past_due_count_as_overdue(trial, subject, monitor, client):
    susar(subject, monitor, days_ago=20)
    susar(subject, monitor, days_ago=3)
    obligations = page_of(client, monitor, trial).context["obligations"]
    assert (obligations["open"], obligations["overdue"]) == (4, 2)
    assert obligations["on_time_rate"] is None


def test_a_site_scoped_cra_counts_only_their_sites_cases(trial, site, three_cases, client):
    counts = page_of(client, cra_of(site), trial).context["cases"]
    assert counts == {"cases": 2, "serious": 1, "pending": 0, "susars": 1}


# ------------------------------------------------------------------------------ sponsors

def test_a_sponsor_viewer_sees_counts_but_no_case_subject_or_link(trial, three_cases, client):
    response = page_of(client, sponsor_viewer_of(trial), trial)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<strong id="count-cases">3</strong>' in html
    assert '<strong id="count-serious">2</strong>' in html
    assert '<strong id="count-susars">1</strong>' in html
    assert '<strong id="on-time-rate">50%</strong>' in html
    assert "Skin and subcutaneous tissue disorders" in html
    assert "/safety/adverse-events/" not in html
    for event in (three_cases["susar"], three_cases["pending"], three_cases["mild"]):
        assert event.subject.number not in html
    assert "latest" not in response.context
    assert "sites" not in response.context


def test_someone_who_does_not_see_the_trial_gets_a_404(trial, three_cases, client):
    outsider = sponsor_viewer_of(TrialFactory())
    assert page_of(client, outsider, trial).status_code == 404
    other_monitor = monitor_of(TrialFactory())
    assert page_of(client, other_monitor, trial).status_code == 404


# ---------------------------------------------------------------------- the trial page line

def test_the_trial_page_shows_serious_cases_and_overdue_obligations(
        trial, subject, monitor, client):
    susar(subject, monitor, days_ago=20)
    case(subject)
    for user in (monitor, sponsor_viewer_of(trial)):
        client.force_login(user)
        html = client.get(reverse("trials:detail", args=[trial.pk])).content.decode()
        assert '<strong id="safety-serious">2</strong>' in html
        assert '<strong id="safety-open">2</strong>' in html
        assert '<strong id="safety-overdue" class="late">2</strong>' in html
        assert reverse("safety:trial_safety", args=[trial.pk]) in html


def test_the_trial_page_shows_no_overdue_as_plain(trial, subject, monitor, client):
    susar(subject, monitor, days_ago=2)
    client.force_login(monitor)
    html = client.get(reverse("trials:detail", args=[trial.pk])).content.decode()
    assert '<strong id="safety-overdue">0</strong>' in html
    assert '<strong id="safety-open">2</strong>' in html


# --------------------------------------------------------------------------- bounded pages

def grow(trial, subject, monitor, n: int) -> None:
    """n SUSARs (one obligation submitted, one overdue) and n pending cases at new sites."""
    for _ in range(n):
        event = susar(subject, monitor)
        obligation_submit(obligation=event.obligations.first(), by=monitor,
                          submitted_at=timezone.now(), reference="REF")
        case(SubjectFactory(site=SiteFactory(trial=trial), enrolled=True), late_by_site=True,
             term=ctcae_term("Rash maculo-papular"))


def count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("persona", ["monitor", "sponsor"])
@pytest.mark.parametrize("page_name", ["safety:trial_safety", "trials:detail"])
def test_the_pages_run_as_many_queries_for_thirty_cases_as_for_one(
        trial, subject, monitor, client, persona, page_name):
    user = monitor if persona == "monitor" else sponsor_viewer_of(trial)
    client.force_login(user)
    url = reverse(page_name, args=[trial.pk])
    grow(trial, subject, monitor, 1)
    small = count(client, url)
    grow(trial, subject, monitor, 29)
    assert count(client, url) == small
