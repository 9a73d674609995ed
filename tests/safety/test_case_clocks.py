"""A case's clocks through the services: entry, follow-ups as of their receipt, the signed
review and submission, with the obligations and deadlines they leave (DOMAIN A2, A3)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from croportal.exceptions import ApplicationError
from reminders.models import Deadline
from safety.models import AdverseEvent, CaseVersion, ReportingObligation
from safety.services import (
    adverse_event_create,
    adverse_event_follow_up,
    adverse_event_review,
    obligation_submit,
)
from tests.conftest import PASSWORD
from tests.factories import (
    SiteFactory,
    SubjectFactory,
    TrialFactory,
    cra_of,
    ctcae_term,
    monitor_of,
    sponsor_viewer_of,
)

AWARE = timezone.now().replace(microsecond=0) - timedelta(days=3)


@pytest.fixture
def trial(db):
    return TrialFactory(ind_number="123456", eu_ct_number="2026-500123-11-00",
                        safety_timezone="Europe/Berlin")


def report(subject, by, **extra):
    fields = {
        "verbatim_term": "neutropenic fever", "term": ctcae_term("Febrile neutropenia"),
        "onset_date": AWARE.date() - timedelta(days=1), "severity_grade": 3,
        "seriousness_criteria": ["hospitalization"], "investigator_causality": "related",
        "site_awareness_at": AWARE, "sponsor_awareness_at": AWARE + timedelta(hours=2),
    }
    return adverse_event_create(subject=subject, by=by, **{**fields, **extra})


def obligations(event, **filters) -> set[tuple]:
    rows = ReportingObligation.objects.filter(adverse_event=event, **filters)
    return {(o.rule, o.recipient, o.status) for o in rows}


def review(event, monitor, **answers):
    return adverse_event_review(event=event, by=monitor, password=PASSWORD,
                                **{"sponsor_causality": "related", "expectedness": "unexpected",
                                   **answers})


def test_a_serious_report_owes_a_medical_review_but_no_report_until_assessed(
        subject, cra, monitor, crm, trial):
    event = report(subject, cra)
    assert event.serious
    assert not event.is_susar
    assert not ReportingObligation.objects.filter(adverse_event=event).exists()
    review_deadline = Deadline.objects.get(kind="medical_review", object_id=event.pk)
    assert (review_deadline.owner, review_deadline.escalation_user) == (monitor, crm)
    # Day 0 in Berlin + the trial's one day, due at the end of that day there.
    day_zero = event.sponsor_awareness_at.astimezone(review_deadline.due_at.tzinfo).date()
    assert AdverseEvent.objects.get(pk=event.pk).review_due_on == day_zero + timedelta(days=1)
    assert [v.kind for v in event.versions.all()] == ["initial"]


def test_fatal_upgrade_by_a_follow_up_then_review_then_submission(subject, cra, monitor, trial):
    event = report(subject, cra)
    signature = review(event, monitor)
    reviewed_at = signature.signed_at
    assert obligations(event) == {
        ("FDA_IND_15_DAY", "FDA", "open"), ("FDA_IND_15_DAY", "INVESTIGATORS", "open"),
        ("EU_CTR_15_DAY", "EU_EUDRAVIGILANCE", "open")}
    fifteen = ReportingObligation.objects.get(adverse_event=event, rule="FDA_IND_15_DAY",
                                              recipient="FDA")
    assert fifteen.clock_start_at == reviewed_at  # the review made it a SUSAR

    died = timezone.now()
    adverse_event_follow_up(event=event, by=cra, information_received_at=died, changes={
        "severity_grade": 5, "outcome": "fatal", "seriousness_criteria": ["death"]},
        narrative="The subject died on day 3.")
    event.refresh_from_db()
    assert obligations(event, status="open") >= {
        ("FDA_IND_7_DAY", "FDA", "open"), ("EU_CTR_7_DAY", "EU_EUDRAVIGILANCE", "open"),
        ("EU_CTR_8_DAY_FOLLOW_UP", "EU_EUDRAVIGILANCE", "open"),
        ("FDA_IND_15_DAY", "FDA", "open"), ("EU_CTR_15_DAY", "EU_EUDRAVIGILANCE", "open")}
    seven = ReportingObligation.objects.get(adverse_event=event, rule="FDA_IND_7_DAY")
    assert seven.clock_start_at == died
    assert fifteen.clock_start_at == ReportingObligation.objects.get(pk=fifteen.pk).clock_start_at
    assert event.review_status == "pending"  # new information: the monitor looks again
    assert [v.kind for v in event.versions.all()] == ["initial", "review", "follow_up"]
    assert event.versions.last().changes["outcome"] == ["unknown", "fatal"]

    deadline = Deadline.objects.get(kind="reporting_obligation", object_id=seven.pk)
    assert deadline.owner == monitor
    assert deadline.state == "open"
    submitted = obligation_submit(obligation=seven, by=monitor, submitted_at=timezone.now(),
                                  reference="FDA-SR-1")
    assert (submitted.status, submitted.on_time) == ("submitted", True)
    deadline.refresh_from_db()
    assert deadline.state == "done"


def test_downgrade_by_a_signed_review_cancels_open_obligations_and_keeps_submitted(
        subject, cra, monitor):
    event = report(subject, cra)
    review(event, monitor)
    fda = ReportingObligation.objects.get(adverse_event=event, rule="FDA_IND_15_DAY",
                                          recipient="FDA")
    obligation_submit(obligation=fda, by=monitor, submitted_at=timezone.now(), reference="R1")
    review(event, monitor, expectedness="expected", comment="Listed in IB v7 section 6")
    assert obligations(event) == {
        ("FDA_IND_15_DAY", "FDA", "submitted"), ("FDA_IND_15_DAY", "INVESTIGATORS", "cancelled"),
        ("EU_CTR_15_DAY", "EU_EUDRAVIGILANCE", "cancelled")}
    cancelled = ReportingObligation.objects.get(adverse_event=event, recipient="INVESTIGATORS")
    assert "expected" in cancelled.cancelled_reason
    assert Deadline.objects.get(kind="reporting_obligation",
                                object_id=cancelled.pk).state == "cancelled"
    event.refresh_from_db()
    assert not event.is_susar
    assert event.susar_determined_at is not None


def test_new_information_after_submission_owes_a_follow_up_report(subject, cra, monitor):
    event = report(subject, cra)
    review(event, monitor)
    for obligation in ReportingObligation.objects.filter(adverse_event=event):
        obligation_submit(obligation=obligation, by=monitor, submitted_at=timezone.now(),
                          reference=f"R-{obligation.pk}")
    later = timezone.now()
    adverse_event_follow_up(event=event, by=cra, information_received_at=later,
                            changes={"end_date": AWARE.date() + timedelta(days=4),
                                     "outcome": "recovered"})
    assert obligations(event, status="open") == {
        ("FDA_IND_FOLLOW_UP", "FDA", "open"), ("FDA_IND_FOLLOW_UP", "INVESTIGATORS", "open"),
        ("EU_CTR_FOLLOW_UP", "EU_EUDRAVIGILANCE", "open")}
    follow_up = ReportingObligation.objects.get(rule="EU_CTR_FOLLOW_UP")
    assert follow_up.report_type == "follow_up"
    assert follow_up.clock_start_at == later


def test_a_late_site_report_is_flagged(subject, cra):
    event = report(subject, cra, sponsor_awareness_at=AWARE + timedelta(hours=24, minutes=1))
    assert AdverseEvent.objects.get(pk=event.pk).site_report_late
    on_time = report(subject, cra, sponsor_awareness_at=AWARE + timedelta(hours=24))
    assert not AdverseEvent.objects.get(pk=on_time.pk).site_report_late


def test_day_zero_in_the_trials_zone(db):
    tokyo = TrialFactory(eu_ct_number="2026-500999-11-00", safety_timezone="Asia/Tokyo")
    site = SiteFactory(trial=tokyo)
    tokyo_monitor = monitor_of(tokyo)
    subject = SubjectFactory(site=site, enrolled=True)
    # 23:30 UTC is already the next day in Tokyo: that date is Day 0.
    aware = datetime.combine(AWARE.date(), datetime.min.time(), tzinfo=UTC) + timedelta(
        hours=23, minutes=30)
    event = report(subject, tokyo_monitor, site_awareness_at=aware, sponsor_awareness_at=aware,
                   severity_grade=4, seriousness_criteria=["life_threatening"],
                   outcome="not_recovered", expectedness="unexpected", sponsor_causality="related")
    day_zero = AWARE.date() + timedelta(days=1)
    assert AdverseEvent.objects.get(pk=event.pk).day_zero == day_zero
    assert {(o.rule, o.due_on) for o in event.obligations.all()} == {
        ("EU_CTR_7_DAY", day_zero + timedelta(days=7)),
        ("EU_CTR_8_DAY_FOLLOW_UP", day_zero + timedelta(days=15))}
    deadline = Deadline.objects.get(kind="reporting_obligation",
                                    object_id=event.obligations.get(rule="EU_CTR_7_DAY").pk)
    # Due at the end of the due date in Tokyo: 15:00 UTC that day.
    midnight = datetime.combine(day_zero + timedelta(days=7), datetime.min.time(), tzinfo=UTC)
    assert deadline.due_at == midnight + timedelta(hours=15)


def test_only_the_sites_cra_or_the_monitor_enter_events(subject, trial, crm):
    viewer = sponsor_viewer_of(trial)
    for person in (viewer, crm):
        with pytest.raises(ApplicationError) as refused:
            report(subject, person)
        assert refused.value.status == 403
    other_cra = cra_of(SiteFactory(trial=trial))
    with pytest.raises(ApplicationError):
        report(subject, other_cra)
    assert not AdverseEvent.objects.exists()


@pytest.mark.parametrize(("extra", "field"), [
    ({"severity_grade": 5}, "outcome"),
    ({"outcome": "fatal"}, "seriousness_criteria"),
    ({"term": "Alopecia"}, "severity_grade"),  # alopecia has grades 1 and 2 only
    ({"seriousness_criteria": ["bad"]}, "seriousness_criteria"),
    ({"end_date": date(2000, 1, 1)}, "end_date"),
    ({"sponsor_awareness_at": AWARE - timedelta(hours=1)}, "sponsor_awareness_at"),
    ({"site_awareness_at": timezone.now() + timedelta(days=1)}, "site_awareness_at"),
    ({"sponsor_causality": "related"}, "sponsor_causality"),
    ({"term": "Not a CTCAE term"}, "term"),
])
def test_bad_cases_are_refused_naming_the_field(subject, cra, extra, field):
    with pytest.raises(ApplicationError) as refused:
        report(subject, cra, **extra)
    assert refused.value.field == field
    assert not AdverseEvent.objects.exists()
    assert not CaseVersion.objects.exists()


def test_a_follow_up_cannot_move_the_clock_back_or_change_awareness(subject, cra):
    event = report(subject, cra)
    with pytest.raises(ApplicationError) as refused:
        adverse_event_follow_up(event=event, by=cra, information_received_at=AWARE,
                                changes={"outcome": "recovered"})
    assert refused.value.field == "information_received_at"
    with pytest.raises(ApplicationError) as refused:
        adverse_event_follow_up(event=event, by=cra, information_received_at=timezone.now(),
                                changes={"sponsor_awareness_at": AWARE})
    assert refused.value.field == "sponsor_awareness_at"
    assert event.versions.count() == 1
