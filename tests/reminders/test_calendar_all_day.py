"""A deadline due on a date is an all-day event of the calendar feed on that date, in every
subscriber's calendar (RFC 5545 VALUE=DATE); one due at a time of day keeps its time."""

import importlib
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps as django_apps
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from croportal.exceptions import ApplicationError
from reminders.models import Deadline
from reminders.services import deadline_upsert
from safety.dsur import anniversary, dsur_cycles
from staffing.services import training_record_create
from tests.factories import (
    AdverseEventFactory,
    EssentialDocumentFactory,
    MilestoneFactory,
    SubjectFactory,
    TrialFactory,
    UserFactory,
    cra_of,
    crm_of,
    monitor_of,
)
from trials.models import Trial
from trials.services import milestone_update, trial_update

TOKYO = "Asia/Tokyo"  # 9 hours ahead of UTC: a midnight there is the day before in UTC


def feed_events(user) -> dict[str, object]:
    """The person's calendar feed, fetched by its secret address: summary -> event."""
    client = Client()
    client.force_login(user)
    response = client.post(reverse("reminders:calendar"), {"action": "regenerate"})
    feed = Client().get(response.context["feed_url"].replace("http://testserver", ""))
    assert feed.status_code == 200
    return {str(event["summary"]).removeprefix("OVERDUE: "): event
            for event in Calendar.from_ical(feed.content).walk("VEVENT")}


def assert_all_day(event, day: date) -> None:
    assert event["dtstart"].params.get("VALUE") == "DATE"
    assert event.decoded("dtstart") == day
    assert event.decoded("dtend") == day + timedelta(days=1)
    assert event.to_ical().decode().count(f"DTSTART;VALUE=DATE:{day:%Y%m%d}") == 1


@pytest.fixture
def trial(db):
    return TrialFactory(protocol_number="A-001")


def test_a_planned_milestone_is_an_all_day_event_on_its_planned_date(trial):
    crm = crm_of(trial, timezone=TOKYO)
    planned = timezone.localdate() + timedelta(days=40)
    milestone = MilestoneFactory(trial=trial, name="Database lock", planned_date=planned)
    deadline = Deadline.objects.get(kind="milestone", object_id=milestone.pk)
    assert (deadline.due_on, deadline.all_day) == (planned, True)
    [event] = feed_events(crm).values()
    assert_all_day(event, planned)


def test_a_document_expiry_is_an_all_day_event_of_the_sites_cra(trial, site):
    cra = cra_of(site, timezone=TOKYO)
    crm = crm_of(trial)
    expires = timezone.localdate() + timedelta(days=200)
    EssentialDocumentFactory(site=site, kind="medical_licence", by=cra, approved_by=crm,
                             effective_on=timezone.localdate(), expires_on=expires)
    [event] = [e for title, e in feed_events(cra).items() if "expires at site" in title]
    assert_all_day(event, expires)


def test_a_training_expiry_is_an_all_day_event_of_the_trained_person(db):
    person = UserFactory(timezone="America/New_York")
    completed = timezone.localdate() - timedelta(days=10)
    record = training_record_create(user=person, by=person, kind="gcp", completed_on=completed)
    [event] = feed_events(person).values()
    assert_all_day(event, record.expires_on)


def test_a_dsur_is_an_all_day_event_on_its_due_date_not_the_midnight_after(trial):
    crm = crm_of(trial)
    monitor = monitor_of(trial, timezone=TOKYO)
    trial_update(trial=trial, by=crm, reason="Safety clock", safety_timezone="America/Chicago")
    soon = timezone.localdate() + timedelta(days=30)
    dibd = anniversary(soon, soon.year - 3) + timedelta(days=1)
    trial_update(trial=Trial.objects.get(pk=trial.pk), by=crm, reason="DIBD known", dibd=dibd)
    [(_lock, due)] = dsur_cycles(dibd=dibd, tracked_from=trial.created_at.date(),
                                 today=timezone.localdate())
    deadline = Deadline.objects.get(kind="dsur", object_id=trial.pk)
    # Late from the end of its due date on the trial's safety clock: the next day's midnight.
    chicago = deadline.due_at.astimezone(ZoneInfo("America/Chicago"))
    assert (chicago.date(), chicago.time()) == (due + timedelta(days=1), time.min)
    assert deadline.due_on == due
    [event] = feed_events(monitor).values()
    assert_all_day(event, due)


def test_a_medical_review_keeps_its_time_of_day(trial, site):
    monitor = monitor_of(trial, timezone=TOKYO)
    AdverseEventFactory(subject=SubjectFactory(site=site, enrolled=True))
    deadline = Deadline.objects.get(kind="medical_review")
    assert (deadline.due_on, deadline.all_day) == (None, False)
    [event] = feed_events(monitor).values()
    assert "VALUE" not in event["dtstart"].params
    assert event.decoded("dtstart") == deadline.due_at.replace(microsecond=0)
    assert event.decoded("dtend") - event.decoded("dtstart") == timedelta(minutes=30)


def test_a_hand_made_task_keeps_its_time_of_day(trial, site, cra):
    due = timezone.now().replace(microsecond=0) + timedelta(days=3)
    deadline_upsert(kind="task", subject=site, owner=cra, due_at=due, title="Call the PI",
                    trial=trial)
    [event] = feed_events(cra).values()
    assert "VALUE" not in event["dtstart"].params
    assert event.decoded("dtstart") == due


def test_a_re_planned_milestone_moves_its_all_day_event(trial):
    crm = crm_of(trial)
    milestone = MilestoneFactory(trial=trial, planned_date=date(2030, 5, 1))
    milestone_update(milestone=milestone, by=crm, reason="Re-planned",
                     planned_date=date(2030, 6, 3))
    assert Deadline.objects.get(kind="milestone", object_id=milestone.pk).due_on == date(2030, 6, 3)
    [event] = feed_events(crm).values()
    assert_all_day(event, date(2030, 6, 3))


def test_a_date_only_deadlines_day_must_be_a_date(trial, site, cra):
    with pytest.raises(ApplicationError, match="is a date"):
        deadline_upsert(kind="task", subject=site, owner=cra, due_at=timezone.now(),
                        due_on=timezone.now(), title="A day that is a moment", trial=trial)
    assert not Deadline.objects.filter(kind="task").exists()


def test_deadlines_opened_before_due_on_existed_get_their_day_when_it_is_provable(trial):
    """The data migration: a due time at the owner's midnight (the trial's, for a DSUR) gives
    the day; any other due time is left a timed deadline."""
    backfill = importlib.import_module(
        "reminders.migrations.0008_deadline_due_on_backfill").backfill
    crm = crm_of(trial, timezone=TOKYO)
    on_time = MilestoneFactory(trial=trial, planned_date=date(2030, 5, 1))
    moved = MilestoneFactory(trial=trial, planned_date=date(2030, 7, 1))
    Deadline.objects.filter(object_id=moved.pk).update(
        due_at=datetime(2030, 7, 1, 12, 0, tzinfo=UTC))  # noon in UTC: not Tokyo's midnight
    dsur = deadline_upsert(kind="dsur", subject=trial, key="dsur-2030-03-14", owner=crm,
                           due_at=datetime(2030, 5, 14, tzinfo=ZoneInfo("UTC")),
                           title="DSUR", trial=trial)
    Deadline.objects.update(due_on=None)

    backfill(django_apps, None)

    days = dict(Deadline.objects.values_list("object_id", "due_on").filter(kind="milestone"))
    assert days == {on_time.pk: date(2030, 5, 1), moved.pk: None}
    assert Deadline.objects.get(pk=dsur.pk).due_on == date(2030, 5, 13)
