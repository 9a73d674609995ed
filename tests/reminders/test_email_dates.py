"""Reminder and digest e-mails (and the bell's messages) say when a deadline is due in the
portal's one format, on the recipient's clock: the day of a date-only deadline, the time and
zone of one due at a time (issue 12)."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core import mail

from reminders import services
from reminders.models import Notification
from tests.factories import MilestoneFactory, crm_of

NOW = datetime(2026, 12, 2, 13, 5, tzinfo=UTC)


@pytest.fixture
def tokyo_cra(cra):
    cra.email, cra.timezone = "cra@example.org", "Asia/Tokyo"
    cra.save()
    return cra


def deliver_all(now: datetime) -> None:
    for reminder_id in services.reminders_claim(now=now):
        services.reminder_deliver(reminder_id=reminder_id)


def test_a_timed_deadline_is_due_at_a_time_on_the_recipients_clock(tokyo_cra, trial, site):
    services.deadline_upsert(kind="task", subject=site, owner=tokyo_cra, trial=trial,
                             due_at=NOW, title="Call the PI", now=NOW - timedelta(days=1))
    deliver_all(NOW)
    [email] = mail.outbox
    assert "due 02-Dec-2026 22:05 JST." in email.subject
    assert "Due: 02-Dec-2026 22:05 JST (Asia/Tokyo)" in email.body
    note = Notification.objects.get(user=tokyo_cra)
    assert note.message.endswith("due 02-Dec-2026 22:05 JST.")


def test_a_date_only_deadline_is_due_on_its_day(trial, db):
    crm = crm_of(trial, email="crm@example.org", timezone="America/Los_Angeles")
    with time_machine.travel(datetime(2026, 11, 20, 12, 0, tzinfo=UTC), tick=False):
        MilestoneFactory(trial=trial, name="First patient in", planned_date=date(2026, 12, 3))
    deliver_all(datetime(2026, 12, 3, 8, 0, tzinfo=UTC))  # the day's midnight in LA has passed
    [email] = [m for m in mail.outbox if m.to == [crm.email]]
    assert "due 03-Dec-2026." in email.subject
    assert "Due: 03-Dec-2026\n" in email.body  # a day, not "00:00 PST"
    assert "PST" not in email.body


def test_the_digest_lists_due_times_on_the_readers_clock(tokyo_cra, trial, site, settings):
    settings.DIGEST_HOUR = 7
    services.deadline_upsert(kind="task", subject=site, owner=tokyo_cra, trial=trial,
                             due_at=NOW + timedelta(days=1), title="Ship the kits", now=NOW)
    services.digests_send(now=NOW)  # 22:05 in Tokyo
    [digest] = mail.outbox
    assert digest.subject.startswith("[CRO Portal] Your deadlines for 02-Dec-2026:")
    assert "Your deadlines on 02-Dec-2026:" in digest.body
    assert "Ship the kits [" in digest.body
    assert "due 03-Dec-2026 22:05 JST" in digest.body
