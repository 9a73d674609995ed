"""A deadline's due time is limited to the portal's range (a 400 naming `due_at`), and the
reminder stages computed from it (due - N days, due + N hours) never raise OverflowError, even
with an administrator's extreme policy; a 9999-12-31 due time used to be a 500."""

from datetime import UTC, datetime, timedelta

import pytest

from croportal.exceptions import ApplicationError
from reminders.models import Deadline, Reminder, ReminderPolicy
from reminders.services import deadline_create_manual, deadline_upsert, reminders_claim
from tests.conftest import api_as


@pytest.mark.parametrize("due", ["0001-01-01T00:00:00Z", "9999-12-31T00:00:00Z",
                                 "9999-12-31T23:59:59+14:00", "2200-01-01T00:00:00Z"])
def test_a_deadline_due_outside_the_range_is_a_400_that_creates_nothing(crm, trial, cra, due):
    before = Deadline.objects.count()
    response = api_as(crm).post("/api/v1/deadlines/", {
        "kind": "task", "trial": trial.pk, "owner": cra.pk, "due_at": due,
        "title": "Call the site"}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["due_at"]
    assert Deadline.objects.count() == before


def test_the_services_refuse_a_due_time_outside_the_range(crm, trial, cra):
    with pytest.raises(ApplicationError) as refused:
        deadline_create_manual(by=crm, kind="task", trial=trial, owner=cra,
                               due_at=datetime(9999, 12, 31, tzinfo=UTC), title="Far away")
    assert (refused.value.field, refused.value.message) == (
        "due_at", "Dates must lie between 1900-01-01 and 2199-12-31.")
    with pytest.raises(ApplicationError, match="Dates must lie between"):
        deadline_upsert(kind="task", subject=trial, owner=cra, title="Moved",
                        due_at=datetime(1, 1, 3, tzinfo=UTC))


def test_the_last_due_time_of_the_range_schedules_and_sweeps(crm, trial, cra):
    """Escalation 2 days after 2199-12-31 is past the range but not past Python's calendar."""
    due = datetime(2199, 12, 31, 23, 59, tzinfo=UTC)
    deadline = deadline_create_manual(by=crm, kind="task", trial=trial,
                                      owner=cra, due_at=due, title="Last day")
    assert deadline.escalate_at == due + timedelta(days=2)


def test_an_extreme_administrator_policy_never_overflows(site, cra, crm):
    """Stages 10^8 hours (11,000 years) before due, a repeat and an escalation 2^31 - 1 hours
    after: every offset is capped at 300 years, longer than the portal's whole range, so the
    early stage has passed (remind now), the escalation and the repeat fall past every date the
    portal holds, and the sweep goes on to the at-due stage."""
    ReminderPolicy.objects.create(kind="task", before_hours=[10**8], remind_at_due=True,
                                  overdue_every_hours=2**31 - 1,
                                  escalate_after_hours=2**31 - 1)
    now = datetime(2026, 6, 1, 9, tzinfo=UTC)
    due = datetime(2199, 12, 1, tzinfo=UTC)
    deadline = deadline_upsert(kind="task", subject=site, owner=cra, now=now,
                               title="Extreme", due_at=due, escalation_user=crm,
                               key="extreme")
    assert deadline.remind_at == now
    assert deadline.escalate_at.year > 2199
    reminders_claim(now=now)
    deadline.refresh_from_db()
    assert Reminder.objects.filter(deadline=deadline).count() == 1
    assert deadline.remind_at == due  # next: the at-due stage
    reminders_claim(now=due)
    deadline.refresh_from_db()
    assert deadline.remind_at.year > 2199  # the overdue repeat, capped, not an OverflowError
    assert Reminder.objects.filter(deadline=deadline).count() == 2


def test_a_policy_beyond_any_duration_falls_back_to_the_default(crm, trial, cra):
    ReminderPolicy.objects.create(kind="task", before_hours=[1e20])
    deadline = deadline_create_manual(by=crm, kind="task", trial=trial,
                                      owner=cra, title="Default stages",
                                      due_at=datetime(2199, 1, 10, tzinfo=UTC))
    assert deadline.remind_at == datetime(2199, 1, 9, tzinfo=UTC)  # the default: a day before
