"""Deadline rows as the reminders engine would hold them: closed ones done on some day, open ones
with the reminders already sent up to now and the next one to come (so a fresh seed does not
flood the first sweep with years of overdue reminders)."""

from datetime import date, datetime

from reminders.models import Deadline
from reminders.policies import DEFAULT_POLICIES

FIELDS = ("kind", "content_type_id", "object_id", "key", "trial_id", "title", "url", "owner_id",
          "escalation_user_id", "due_at", "due_on")


def deadline(*, now: datetime, done_at: datetime | None = None, cancelled: bool = False,
             due_on: date | None = None, key: str = "", url: str = "", **fields) -> Deadline:
    """A deadline closed at `done_at` (or cancelled), else open and scheduled after `now`."""
    row = Deadline(due_on=due_on, key=key, url=url, **fields)
    if cancelled or done_at is not None:
        row.state = Deadline.State.CANCELLED if cancelled else Deadline.State.DONE
        row.done_at = done_at or now
        return row
    policy = DEFAULT_POLICIES[row.kind]
    stages = [t for t in policy.stage_times(row.due_at) if t <= now]
    row.remind_at = policy.next_after(row.due_at, now)
    row.reminders_sent = len(stages)
    row.last_reminded_at = stages[-1] if stages else None
    escalation = policy.escalation_time(row.due_at) if row.escalation_user_id else None
    if escalation is not None and escalation <= now:
        row.escalated_at = escalation
    else:
        row.escalate_at = escalation
    present = [t for t in (row.remind_at, row.escalate_at) if t is not None]
    row.next_reminder_at = min(present) if present else None
    return row
