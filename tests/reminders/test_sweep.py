"""The sweep and delivery services: stages, claims, idempotent delivery, closing, preferences."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from croportal.exceptions import ApplicationError
from reminders import services
from reminders.models import Deadline, Notification, Reminder
from reminders.policies import DEFAULT_POLICIES, Kind
from reminders.services import sweep as claims_of_the_sweep

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def task_for(trial, cra, *, due_at, owner=None, key="k", kind=Kind.TASK, escalation_user=None):
    return services.deadline_upsert(
        kind=kind, subject=trial, owner=owner or cra, due_at=due_at,
        title="Collect the signed CV", trial=trial, key=key,
        escalation_user=escalation_user, url=f"/trials/{trial.pk}/", now=NOW,
    )


def sweep(now):
    ids = services.reminders_claim(now=now)
    for reminder_id in ids:
        services.reminder_deliver(reminder_id=reminder_id)
    return ids


def test_policy_stages_follow_the_due_time():
    policy = DEFAULT_POLICIES[Kind.TASK]  # 1 day before, at due, daily overdue
    due = NOW + timedelta(days=3)
    assert policy.first(due, NOW) == due - timedelta(days=1)
    assert policy.next_after(due, due - timedelta(days=1)) == due
    assert policy.next_after(due, due) == due + timedelta(days=1)
    assert policy.next_after(due, due + timedelta(days=2, hours=1)) == due + timedelta(days=3)
    # Already inside the window (or overdue): the owner hears at once.
    assert policy.first(NOW + timedelta(hours=2), NOW) == NOW
    assert policy.first(NOW - timedelta(days=5), NOW) == NOW


def test_a_deadline_walks_through_its_stages_once_each(crm, cra, trial):
    due = NOW + timedelta(days=3)
    deadline = task_for(trial, cra, due_at=due, escalation_user=crm)
    assert deadline.next_reminder_at == due - timedelta(days=1)
    assert sweep(NOW) == []  # nothing due yet
    stages = []
    for moment in (due - timedelta(days=1), due, due + timedelta(days=1),
                   due + timedelta(days=2)):
        sweep(moment)
        sweep(moment)  # a second sweep at the same moment finds nothing more
        stages.append(sorted(Reminder.objects.filter(scheduled_for=moment)
                             .values_list("stage", flat=True)))
    assert stages == [["before_due"], ["at_due"], ["overdue"], ["escalation", "overdue"]]
    notes = Notification.objects.filter(deadline=deadline)
    assert notes.filter(user=cra).count() == 4
    assert notes.filter(user=crm).count() == 1
    assert "Escalation" in notes.get(user=crm).message


def test_a_past_due_deadline_is_accepted_and_reminded_at_once(trial, cra):
    deadline = task_for(trial, cra, due_at=NOW - timedelta(days=2))
    assert deadline.state == "open"
    assert deadline.next_reminder_at == NOW
    sweep(NOW)
    assert Reminder.objects.get(deadline=deadline).stage == "overdue"


def test_unknown_kind_is_refused_with_the_field(trial, cra):
    with pytest.raises(ApplicationError) as refused:
        task_for(trial, cra, due_at=NOW, kind="coffee")
    assert refused.value.field == "kind"
    assert "coffee" in refused.value.message
    assert not Deadline.objects.filter(title="Collect the signed CV").exists()


def test_delivery_is_idempotent_and_mails_once(cra, trial):
    cra.email = "cra@example.org"
    cra.save()
    task_for(trial, cra, due_at=NOW)
    [reminder_id] = services.reminders_claim(now=NOW)
    for _ in range(3):  # redelivered messages
        services.reminder_deliver(reminder_id=reminder_id)
    assert Notification.objects.filter(reminder_id=reminder_id).count() == 1
    assert len(mail.outbox) == 1
    assert "Collect the signed CV" in mail.outbox[0].subject


def test_closing_stops_reminders_and_skips_pending_ones(trial, cra):
    deadline = task_for(trial, cra, due_at=NOW)
    [reminder_id] = services.reminders_claim(now=NOW)
    services.deadline_close(kind=Kind.TASK, subject=trial, key="k")
    assert services.reminder_deliver(reminder_id=reminder_id) == "skipped"
    assert not Notification.objects.filter(deadline=deadline).exists()
    deadline.refresh_from_db()
    assert deadline.next_reminder_at is None
    services.reminders_claim(now=NOW + timedelta(days=30))
    assert not Reminder.objects.filter(deadline=deadline).exclude(pk=reminder_id).exists()


def test_moving_the_due_time_reschedules(trial, cra):
    deadline = task_for(trial, cra, due_at=NOW + timedelta(days=10))
    moved = task_for(trial, cra, due_at=NOW + timedelta(days=20))
    assert moved.pk == deadline.pk
    assert moved.next_reminder_at == NOW + timedelta(days=19)


def test_preferences_mute_email_but_not_the_bell(cra, trial):
    cra.email = "cra@example.org"
    cra.save()
    services.preferences_update(user=cra, email_enabled=True, digest_only=False,
                                daily_digest=True, muted_kinds=[Kind.TASK])
    task_for(trial, cra, due_at=NOW)
    sweep(NOW)
    assert Notification.objects.filter(user=cra, reminder__isnull=False).count() == 1
    assert mail.outbox == []


def test_now_is_aware():
    assert timezone.is_aware(NOW)


def test_a_reminder_waiting_for_its_retry_is_not_redispatched_as_stale(trial, cra, settings):
    settings.REMINDER_REDISPATCH_AFTER_SECONDS = 600
    task_for(trial, cra, due_at=NOW)
    [reminder_id] = services.reminders_claim(now=NOW)
    later = timezone.now()
    services.reminders_mark_dispatched(reminder_ids=[reminder_id], now=later - timedelta(hours=1))
    assert reminder_id in services.reminders_stale(now=later)  # lost: dispatched long ago
    services.reminder_record_error(reminder_id=reminder_id, error="SMTP down",
                                   retry_at=later + timedelta(seconds=480))
    assert reminder_id not in services.reminders_stale(now=later + timedelta(seconds=900))
    assert reminder_id in services.reminders_stale(now=later + timedelta(seconds=1200))


def test_a_row_changed_after_the_select_is_not_claimed(trial, cra):
    """The conditional UPDATE, not the select, decides: a row whose schedule moved meanwhile
    (another sweep claimed it, or its deadline was moved) is left to the other side."""
    first = task_for(trial, cra, due_at=NOW, key="first")
    second = task_for(trial, cra, due_at=NOW, key="second")
    known = services.policies()
    claims = [claims_of_the_sweep._plan(row, known[row.kind], NOW)
              for row in Deadline.objects.filter(pk__in=[first.pk, second.pk])]
    Deadline.objects.filter(pk=second.pk).update(next_reminder_at=NOW + timedelta(hours=1))
    assert claims_of_the_sweep._apply_claims(claims, NOW) == {first.pk}
    first.refresh_from_db()
    assert first.last_reminded_at == NOW
    assert first.reminders_sent == 1
    assert first.next_reminder_at == NOW + timedelta(days=1)  # the next overdue reminder


def test_no_word_reaches_someone_who_has_left_the_trial(cra, cra_assignment, crm, trial):
    from staffing.services import assignment_end

    cra.email = "cra@example.org"
    cra.save()
    deadline = task_for(trial, cra, due_at=NOW)
    assignment_end(assignment=cra_assignment, end_date=cra_assignment.start_date,
                   by=crm, reason="Left the trial")
    [reminder_id] = services.reminders_claim(now=NOW)
    assert services.reminder_deliver(reminder_id=reminder_id) == "skipped"
    assert not Notification.objects.filter(deadline=deadline).exists()
    assert mail.outbox == []
    assert "no longer has access" in Reminder.objects.get(pk=reminder_id).last_error


@pytest.mark.parametrize("kind", Kind.values)
def test_every_kind_has_stages_and_its_reminder_is_sent_once(cra, crm, trial, kind):
    cra.email = "cra@example.org"
    cra.save()
    policy = DEFAULT_POLICIES[kind]
    assert policy.stage_times(NOW), f"{kind} has no reminder stage"
    deadline = task_for(trial, cra, due_at=NOW + timedelta(hours=2), kind=kind,
                        escalation_user=crm)
    for _ in range(2):  # a second sweep and redelivered messages change nothing
        for reminder_id in services.reminders_claim(now=NOW):
            services.reminder_deliver(reminder_id=reminder_id)
            services.reminder_deliver(reminder_id=reminder_id)
    [note] = Notification.objects.filter(deadline=deadline)
    assert note.user == cra
    assert note.kind == kind
    assert [m.to for m in mail.outbox] == [["cra@example.org"]]
