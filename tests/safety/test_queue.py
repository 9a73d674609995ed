"""The medical monitor's queue: serious cases awaiting review and reporting obligations of the
trials they review, nearest clock first, with the time left on the trial's safety clock;
filters that refuse bad values; for the monitor and administrators only; bounded queries. The
home page shows its first rows."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from croportal.formats import format_date
from safety.models import ReportingObligation
from safety.selectors import Clock
from safety.services import adverse_event_review, obligation_submit
from staffing.models import Role
from tests.conftest import PASSWORD
from tests.factories import (
    AdverseEventFactory,
    SiteFactory,
    SubjectFactory,
    TrialFactory,
    assigned,
    cra_of,
    crm_of,
    monitor_of,
    sponsor_viewer_of,
)


@pytest.fixture
def trial(db):
    return TrialFactory(ind_number="123456")


def case(subject, *, days_ago: float = 0, **fields):
    """A serious case (hospitalisation) the sponsor learnt of `days_ago` days ago."""
    aware = timezone.now() - timedelta(days=days_ago, minutes=5)
    return AdverseEventFactory(subject=subject, site_awareness_at=aware, **fields)


def susar(subject, monitor, *, days_ago: int = 0):
    """A case the monitor reviewed `days_ago` days ago as unexpected and related: on an IND
    trial, two 15-day obligations (FDA, investigators) whose clock started at the signing."""
    moment = timezone.now() - timedelta(days=days_ago)
    with time_machine.travel(moment, tick=False):
        event = case(subject)
        adverse_event_review(event=event, by=monitor, password=PASSWORD,
                             sponsor_causality="related", expectedness="unexpected")
    return event


def queue_of(client, user, **query):
    client.force_login(user)
    return client.get(reverse("safety:queue"), query)


def case_ids(response) -> list[int]:
    return [row.event.pk for row in response.context["case_rows"]]


def obligation_events(response) -> list[int]:
    return [row.event.pk for row in response.context["obligation_rows"]]


# ------------------------------------------------------------------------------- the order

def test_a_case_due_tomorrow_is_listed_above_one_due_next_week(trial, monitor, subject, client):
    slow = TrialFactory(medical_review_days=7)
    assigned(monitor, slow, Role.MEDICAL_MONITOR)
    next_week = case(SubjectFactory(site=SiteFactory(trial=slow), enrolled=True))
    tomorrow = case(subject)
    response = queue_of(client, monitor)
    assert case_ids(response) == [tomorrow.pk, next_week.pk]
    labels = [row.clock.label for row in response.context["case_rows"]]
    assert labels == ["1 day left", "7 days left"]


def test_an_overdue_obligation_comes_first_and_is_marked_late(monitor, subject, client):
    recent = susar(subject, monitor)
    overdue = susar(subject, monitor, days_ago=20)
    response = queue_of(client, monitor)
    assert obligation_events(response) == [overdue.pk, overdue.pk, recent.pk, recent.pk]
    first = response.context["obligation_rows"][0]
    assert first.clock.label == "overdue by 5 days"
    html = response.content.decode()
    assert '<span class="clock late">overdue by 5 days</span>' in html
    assert '<span class="clock">15 days left</span>' in html
    row_of_first = html.split(f'data-obligation="{first.obligation.pk}"')[0].rsplit("<tr", 1)[1]
    assert "late" in row_of_first.split('class="', 1)[1].split('"', 1)[0].split()


def test_a_row_shows_the_case_its_rule_recipient_and_both_causality_assessments(
        monitor, subject, client):
    event = susar(subject, monitor, days_ago=3)
    html = queue_of(client, monitor).content.decode()
    assert reverse("safety:ae_detail", args=[event.pk]) in html
    for text in (event.trial.protocol_number, event.site.number, subject.number,
                 "Febrile neutropenia", "hospitalization", "FDA_IND_15_DAY", "INVESTIGATORS",
                 "Related / Related", "Unexpected", "12 days left"):
        assert text in html, text


@pytest.mark.parametrize(("days_left", "label", "late"), [
    (2, "2 days left", False), (1, "1 day left", False), (0, "due today", False),
    (-1, "overdue by 1 day", True), (-3, "overdue by 3 days", True),
])
def test_the_clock_says_the_time_left_in_days(days_left, label, late):
    clock = Clock(due_on=timezone.localdate(), days_left=days_left)
    assert (clock.label, clock.late) == (label, late)


def test_time_left_counts_on_the_trials_safety_clock(db, client):
    """At 23:30 UTC it is already tomorrow in Tokyo: a report due 'tomorrow' in UTC terms is
    due today on a Tokyo trial's clock."""
    tokyo = TrialFactory(ind_number="123456", safety_timezone="Asia/Tokyo")
    monitor = monitor_of(tokyo)
    subject = SubjectFactory(site=SiteFactory(trial=tokyo), enrolled=True)
    evening = timezone.now().replace(hour=23, minute=30, second=0, microsecond=0)
    with time_machine.travel(evening - timedelta(days=15), tick=False):
        susar(subject, monitor)
    with time_machine.travel(evening, tick=False):
        response = queue_of(client, monitor)
    assert {row.clock.label for row in response.context["obligation_rows"]} == {"due today"}


# ------------------------------------------------------------------------------ the filters

@pytest.fixture
def two_trials(trial, monitor, subject):
    """The monitor's cases and obligations on two trials (one pending case and one SUSAR each;
    the second trial's at two sites)."""
    other = TrialFactory(ind_number="654321")
    assigned(monitor, other, Role.MEDICAL_MONITOR)
    other_sites = [SiteFactory(trial=other), SiteFactory(trial=other)]
    other_subjects = [SubjectFactory(site=s, enrolled=True) for s in other_sites]
    return {
        "other": other, "other_sites": other_sites,
        "pending": [case(subject), case(other_subjects[0]), case(other_subjects[1])],
        "susars": [susar(subject, monitor, days_ago=20), susar(other_subjects[1], monitor)],
    }


def test_the_trial_filter_narrows_both_tables(trial, monitor, two_trials, client):
    response = queue_of(client, monitor, trial=trial.pk)
    assert case_ids(response) == [two_trials["pending"][0].pk]
    assert set(obligation_events(response)) == {two_trials["susars"][0].pk}


def test_the_site_filter_narrows_both_tables(monitor, two_trials, client):
    site = two_trials["other_sites"][1]
    response = queue_of(client, monitor, site=site.pk)
    assert case_ids(response) == [two_trials["pending"][2].pk]
    assert set(obligation_events(response)) == {two_trials["susars"][1].pk}


def test_the_state_filter_picks_overdue_submitted_or_cancelled_obligations(
        monitor, two_trials, client):
    overdue_case = two_trials["susars"][0]
    response = queue_of(client, monitor, state="overdue")
    assert set(obligation_events(response)) == {overdue_case.pk}
    assert len(response.context["obligation_rows"]) == 2
    sent = ReportingObligation.objects.filter(adverse_event=two_trials["susars"][1]).first()
    obligation_submit(obligation=sent, by=monitor, submitted_at=timezone.now(),
                      reference="FDA-1")
    response = queue_of(client, monitor, state="submitted")
    assert [row.obligation.pk for row in response.context["obligation_rows"]] == [sent.pk]
    assert "(on time)" in response.content.decode()
    assert queue_of(client, monitor, state="cancelled").context["obligation_rows"] == []
    open_rows = queue_of(client, monitor).context["obligation_rows"]
    assert sent.pk not in {row.obligation.pk for row in open_rows}
    assert len(open_rows) == 3


@pytest.mark.parametrize("query", [
    {"state": "late"}, {"trial": "abc"}, {"site": "1.5"}, {"trial": "99999999999999999999999"},
    {"site": "9" * 5000}, {"sate": "open"}, {"state": ["open", "<script>"]},
])
def test_a_bad_filter_is_a_400(monitor, two_trials, client, query):
    response = queue_of(client, monitor, **query)
    assert response.status_code == 400
    assert 'id="queue-filter-errors"' in response.content.decode()


def test_a_trial_or_site_the_monitor_does_not_review_is_a_400(trial, monitor, two_trials,
                                                              client):
    foreign = SiteFactory(trial=TrialFactory())
    assert queue_of(client, monitor, trial=foreign.trial.pk).status_code == 400
    assert queue_of(client, monitor, site=foreign.pk).status_code == 400
    mismatched = {"trial": trial.pk, "site": two_trials["other_sites"][0].pk}
    assert queue_of(client, monitor, **mismatched).status_code == 400


def test_each_table_pages_by_fifty_and_keeps_the_filters(trial, monitor, subject, client):
    for _ in range(51):
        case(subject)
    response = queue_of(client, monitor, trial=trial.pk)
    assert len(response.context["case_rows"]) == 50
    # The list mechanism's pager, under the cases table's own prefix, keeps the filters.
    assert response.context["cases"]["table"].paginator.num_pages == 2
    assert f'href="?trial={trial.pk}&amp;cases_page=2" rel="next"' in response.content.decode()
    second = queue_of(client, monitor, trial=trial.pk, cases_page=2)
    assert len(second.context["case_rows"]) == 1


# ----------------------------------------------------------------------------- who may see

@pytest.mark.parametrize("persona", ["cra", "crm", "sponsor"])
def test_only_a_medical_monitor_or_an_administrator_has_a_queue(trial, site, client, persona):
    user = {"cra": lambda: cra_of(site), "crm": lambda: crm_of(trial),
            "sponsor": lambda: sponsor_viewer_of(trial)}[persona]()
    assert queue_of(client, user).status_code == 403


def test_an_administrator_sees_every_trials_queue(admin, subject, client):
    event = case(subject)
    assert case_ids(queue_of(client, admin)) == [event.pk]


def test_the_queue_never_shows_a_trial_the_monitor_does_not_review(monitor, subject, client):
    elsewhere = case(SubjectFactory(enrolled=True))
    mine = case(subject)
    assert case_ids(queue_of(client, monitor)) == [mine.pk]
    assert elsewhere.pk not in case_ids(queue_of(client, monitor))


def test_reviewed_and_non_serious_cases_leave_the_review_table(monitor, subject, client):
    case(subject, seriousness_criteria=[])  # grade 3, not serious (ICH E2A)
    susar(subject, monitor)
    assert case_ids(queue_of(client, monitor)) == []


# --------------------------------------------------------------------------- the home page

def test_the_home_page_shows_the_nearest_ten_clocks_and_links_to_the_queue(
        monitor, subject, client):
    overdue = susar(subject, monitor, days_ago=20)
    for _ in range(12):
        case(subject)
    client.force_login(monitor)
    response = client.get(reverse("dashboards:home"))
    rows = response.context["monitor_queue"]
    assert len(rows) == 10
    assert [row.event.pk for row in rows[:2]] == [overdue.pk, overdue.pk]
    assert rows[0].obligation is not None
    assert rows[0].clock.late
    assert all(row.obligation is None for row in rows[2:])
    html = response.content.decode()
    assert f'href="{reverse("safety:queue")}"' in html
    assert "overdue by 5 days" in html


# --------------------------------------------------------------------------- bounded pages

def grow(subject, monitor, n: int) -> None:
    """n pending cases and n SUSARs, each with one overdue obligation and one submitted."""
    for _ in range(n):
        case(subject)
        event = susar(subject, monitor, days_ago=20)
        obligation_submit(obligation=event.obligations.first(), by=monitor,
                          submitted_at=timezone.now(), reference="REF")


def count(client, url, query=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, query or {})
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("query", [{}, {"state": "overdue"}, {"state": "submitted"}])
def test_the_queue_runs_as_many_queries_for_thirty_cases_as_for_one(
        monitor, subject, client, query):
    client.force_login(monitor)
    grow(subject, monitor, 1)
    small = count(client, reverse("safety:queue"), query)
    grow(subject, monitor, 29)
    assert count(client, reverse("safety:queue"), query) == small


def test_the_monitors_home_page_runs_as_many_queries_for_thirty_cases_as_for_one(
        monitor, subject, client):
    client.force_login(monitor)
    grow(subject, monitor, 1)
    small = count(client, reverse("dashboards:home"))
    grow(subject, monitor, 29)
    assert count(client, reverse("dashboards:home")) == small


def test_a_pending_case_shows_the_clocks_that_run_from_its_day_zero(client, db):
    """Not yet assessed, a serious case owes no report, but the monitor sees by when the
    15-day report (and, fatal or life-threatening, the 7-day one) would be due were it a
    SUSAR, counted from its Day 0."""
    trial = TrialFactory(ind_number="100200")
    monitor = monitor_of(trial)
    hospital = AdverseEventFactory(subject=SubjectFactory(site__trial=trial, enrolled=True))
    client.force_login(monitor)
    html = client.get(reverse("safety:queue")).content.decode()
    day_zero = hospital.sponsor_awareness_at.date()
    row = html.split(f'data-case="{hospital.pk}"')[1].split("</tr>")[0]
    assert f"Day 0 {format_date(day_zero)}" in row
    assert format_date(day_zero + timedelta(days=15)) in row.split('class="fifteen-day"')[1]
    assert 'class="seven-day"' not in row  # hospitalisation only: no 7-day clock
