"""Delivery of one claimed reminder: in-app notification and e-mail, retries and failure."""

from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from croportal.formats import format_date, format_datetime
from croportal.timezones import zone_of
from reminders.models import (
    Deadline,
    Notification,
    NotificationPreference,
    Reminder,
)
from reminders.selectors import (
    may_hear_about,
)
from reminders.services.deadlines import logger


def preference_of(*, user) -> NotificationPreference:
    try:
        return user.notification_preference
    except NotificationPreference.DoesNotExist:
        return NotificationPreference(user=user)


def due_text(*, deadline: Deadline, person) -> str:
    """When a deadline is due, as ``person`` reads it: the day of a date-only deadline, else
    the moment on their clock with its zone (croportal/formats.py)."""
    if deadline.due_on is not None:
        return format_date(deadline.due_on)
    return format_datetime(deadline.due_at, zone=zone_of(person))


def reminder_message(*, reminder: Reminder) -> str:
    deadline = reminder.deadline
    due = due_text(deadline=deadline, person=reminder.recipient)
    if reminder.stage == Reminder.Stage.ESCALATION:
        return f"Escalation: {deadline.owner.full_name}'s \u201c{deadline.title}\u201d " \
               f"has been overdue since {due}."
    label = {
        Reminder.Stage.NEW: "New deadline",
        Reminder.Stage.BEFORE_DUE: "Due soon",
        Reminder.Stage.AT_DUE: "Due now",
        Reminder.Stage.OVERDUE: "Overdue",
    }[Reminder.Stage(reminder.stage)]
    return f"{label}: \u201c{deadline.title}\u201d, due {due}."


def absolute_url(*, path: str) -> str:
    if not path:
        return settings.PORTAL_BASE_URL.rstrip("/") + "/deadlines/"
    if path.startswith(("http://", "https://")):
        return path
    return settings.PORTAL_BASE_URL.rstrip("/") + "/" + path.lstrip("/")


def reminder_deliver(*, reminder_id: int) -> str:
    """Deliver one reminder: the in-app notification, then the e-mail. Safe to run again and
    concurrently for the same reminder (a redelivered or duplicated message): the reminder row
    is locked while it is worked on and each effect happens once. Raises on an e-mail failure
    so that the task retries; the notification already written stays."""
    with transaction.atomic():
        reminder = _locked(reminder_id)
        if reminder is None or reminder.state != Reminder.State.PENDING:
            return "gone" if reminder is None else reminder.state
        outcome = _notify(reminder, timezone.now())
        if outcome is not None:
            return outcome
    with transaction.atomic():
        # Locked again while mailing: a concurrent duplicate waits here and then finds it sent.
        reminder = _locked(reminder_id)
        if reminder is None or reminder.state != Reminder.State.PENDING:
            return "gone" if reminder is None else reminder.state
        recipient = reminder.recipient
        wants = preference_of(user=recipient).wants_email_for(reminder.deadline.kind)
        if wants and recipient.is_active and recipient.email and reminder.emailed_at is None:
            _send_reminder_email(reminder, reminder_message(reminder=reminder))
            reminder.emailed_at = timezone.now()
        reminder.state, reminder.finished_at = Reminder.State.SENT, timezone.now()
        reminder.last_error = ""
        reminder.save(update_fields=["state", "finished_at", "emailed_at", "last_error"])
        return reminder.state


def _locked(reminder_id: int) -> Reminder | None:
    return (
        Reminder.objects.select_for_update(of=("self",))
        .select_related("deadline", "recipient", "deadline__owner")
        .filter(pk=reminder_id).first()
    )


def _notify(reminder: Reminder, now: datetime) -> str | None:
    """The in-app half: skip a reminder whose deadline closed or whose recipient left the
    trial since the claim (returns the final state), else notify once (returns None)."""
    reminder.attempts += 1
    deadline = reminder.deadline
    if deadline.state != Deadline.State.OPEN:  # closed since the claim: nothing to say
        reminder.state, reminder.finished_at = Reminder.State.SKIPPED, now
        reminder.save(update_fields=["state", "finished_at", "attempts"])
        return reminder.state
    if not may_hear_about(user=reminder.recipient, deadline=deadline):
        # Off the trial since: not a word about it (its CRM sees the deadline unowned).
        reminder.state, reminder.finished_at = Reminder.State.SKIPPED, now
        reminder.last_error = "The recipient no longer has access to the deadline's trial."
        reminder.save(update_fields=["state", "finished_at", "attempts", "last_error"])
        return reminder.state
    if reminder.notified_at is None:
        Notification.objects.create(
            user=reminder.recipient, kind=deadline.kind,
            message=reminder_message(reminder=reminder)[:500],
            url=deadline.url or "/deadlines/", deadline=deadline, reminder=reminder,
        )
        reminder.notified_at = now
    reminder.save(update_fields=["attempts", "notified_at"])
    return None


def _send_reminder_email(reminder: Reminder, message: str) -> None:
    deadline = reminder.deadline
    context = {"reminder": reminder, "deadline": deadline, "message": message,
               "link": absolute_url(path=deadline.url), "recipient": reminder.recipient,
               "due": due_text(deadline=deadline, person=reminder.recipient)}
    body = render_to_string("reminders/email/reminder.txt", context)
    subject = f"[CRO Portal] {message}"[:200]
    EmailMessage(subject=subject, body=body, to=[reminder.recipient.email]).send()


def reminder_record_error(*, reminder_id: int, error: str, retry_at: datetime) -> None:
    """Note a failed attempt and when the retry is due: `dispatched_at` moves to the retry
    time, so the stale re-dispatch does not start a second chain while this one waits."""
    Reminder.objects.filter(pk=reminder_id, state=Reminder.State.PENDING).update(
        last_error=error[:2000], dispatched_at=retry_at)


@transaction.atomic
def reminder_fail(*, reminder_id: int, error: str) -> None:
    """Give up on a reminder whose delivery kept failing: mark it failed and flag its deadline.
    The deadline's schedule already moved on at the claim, so nothing waits behind it."""
    now = timezone.now()
    updated = Reminder.objects.filter(pk=reminder_id, state=Reminder.State.PENDING).update(
        state=Reminder.State.FAILED, last_error=error[:2000], finished_at=now)
    if updated:
        Deadline.objects.filter(reminders__pk=reminder_id).update(delivery_failed_at=now)
        logger.error("reminder %s failed for good: %s", reminder_id, error)
