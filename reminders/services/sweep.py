"""The minute sweep: claim the reminders that have come due, once, whatever the number of
workers."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from reminders.models import (
    Deadline,
    Reminder,
)
from reminders.policies import Policy
from reminders.services.deadlines import _earliest, policies


def _stage_of(scheduled: datetime, due_at: datetime, policy: Policy) -> str:
    if scheduled < due_at and scheduled not in policy.stage_times(due_at):
        return Reminder.Stage.NEW  # sent at once because the deadline arrived in its window
    if scheduled < due_at:
        return Reminder.Stage.BEFORE_DUE
    if scheduled == due_at:
        return Reminder.Stage.AT_DUE
    return Reminder.Stage.OVERDUE


def due_deadlines(*, now: datetime, batch: int | None = None) -> models.QuerySet[Deadline]:
    """The sweep's select: the first `batch` open deadlines whose next reminder is due, in the
    order they fell due, locked (skipping rows another sweep holds, where the database can).
    Served by the partial index `deadline_sweep`; evaluate it inside a transaction."""
    batch = batch or settings.REMINDER_SWEEP_BATCH
    due = Deadline.objects.filter(state=Deadline.State.OPEN, next_reminder_at__lte=now)
    due = due.order_by("next_reminder_at")
    if transaction.get_connection().features.has_select_for_update_skip_locked:
        due = due.select_for_update(skip_locked=True, of=("self",))
    return due.only("id", "kind", "due_at", "owner_id", "escalation_user_id", "remind_at",
                    "escalate_at", "next_reminder_at", "last_reminded_at")[:batch]


@dataclass(frozen=True)
class _Claim:
    """What the sweep intends for one due row: its new schedule, and what it owes whom."""

    row: Deadline
    owner_due: bool
    escalate: bool
    remind_at: datetime | None
    escalate_at: datetime | None

    @property
    def next_reminder_at(self) -> datetime | None:
        return _earliest(self.remind_at, self.escalate_at)


def _plan(row: Deadline, policy: Policy, now: datetime) -> _Claim:
    owner_due = row.remind_at is not None and row.remind_at <= now
    escalate = row.escalate_at is not None and row.escalate_at <= now
    return _Claim(
        row=row, owner_due=owner_due, escalate=escalate,
        remind_at=policy.next_after(row.due_at, now) if owner_due else row.remind_at,
        escalate_at=None if escalate else row.escalate_at,
    )


CLAIM_SQL = """
    UPDATE reminders_deadline AS d SET
        remind_at = v.remind_at,
        escalate_at = v.escalate_at,
        next_reminder_at = v.next_reminder_at,
        last_reminded_at = CASE WHEN v.owner_due THEN %s ELSE d.last_reminded_at END,
        escalated_at = CASE WHEN v.escalate THEN %s ELSE d.escalated_at END,
        reminders_sent = d.reminders_sent + CASE WHEN v.owner_due THEN 1 ELSE 0 END,
        updated_at = %s
    FROM (VALUES {values}) AS v(id, old_next, remind_at, escalate_at, next_reminder_at,
                                owner_due, escalate)
    WHERE d.id = v.id AND d.state = 'open' AND d.next_reminder_at = v.old_next
    RETURNING d.id
"""


CLAIM_ROW = ("(%s::bigint, %s::timestamptz, %s::timestamptz, %s::timestamptz, "
             "%s::timestamptz, %s::boolean, %s::boolean)")


def _apply_claims(claims: list[_Claim], now: datetime) -> set[int]:
    """Each claim is a conditional UPDATE (still open, next_reminder_at unchanged); returns the
    ids whose UPDATE changed the row. On PostgreSQL all of a batch go in one statement."""
    if not claims:
        return set()
    connection = transaction.get_connection()
    if connection.vendor == "postgresql":
        params: list = []
        for claim in claims:
            params += [claim.row.pk, claim.row.next_reminder_at, claim.remind_at,
                       claim.escalate_at, claim.next_reminder_at, claim.owner_due,
                       claim.escalate]
        sql = CLAIM_SQL.format(values=", ".join([CLAIM_ROW] * len(claims)))
        with connection.cursor() as cursor:
            cursor.execute(sql, [now, now, now, *params])
            return {row[0] for row in cursor.fetchall()}
    claimed = set()
    for claim in claims:
        changes: dict = {"updated_at": now, "remind_at": claim.remind_at,
                         "escalate_at": claim.escalate_at,
                         "next_reminder_at": claim.next_reminder_at}
        if claim.owner_due:
            changes["last_reminded_at"] = now
            changes["reminders_sent"] = models.F("reminders_sent") + 1
        if claim.escalate:
            changes["escalated_at"] = now
        if Deadline.objects.filter(
            pk=claim.row.pk, state=Deadline.State.OPEN,
            next_reminder_at=claim.row.next_reminder_at,
        ).update(**changes):
            claimed.add(claim.row.pk)
    return claimed


def reminders_claim(*, now: datetime | None = None, batch: int | None = None) -> list[int]:
    """Claim up to `batch` due deadlines and write one Reminder per recipient per claim.

    Each row is claimed with a conditional UPDATE (still open, `next_reminder_at` unchanged):
    of two sweeps racing for a row only the one whose UPDATE changed it writes reminders. On
    PostgreSQL, rows another sweep has locked are skipped rather than waited for."""
    now = now or timezone.now()
    batch = batch or settings.REMINDER_SWEEP_BATCH
    known = policies()
    created: list[Reminder] = []
    with transaction.atomic():
        claims = [_plan(row, known[row.kind], now) for row in due_deadlines(now=now, batch=batch)]
        claimed = _apply_claims(claims, now)
        for claim in claims:
            row = claim.row
            if row.pk not in claimed:
                continue  # another sweep claimed it first: it sends, we do not
            if claim.owner_due and row.remind_at is not None:
                created.append(Reminder(
                    deadline_id=row.pk, recipient_id=row.owner_id,
                    stage=_stage_of(row.remind_at, row.due_at, known[row.kind]),
                    scheduled_for=row.remind_at,
                ))
            if claim.escalate and row.escalate_at is not None and row.escalation_user_id:
                created.append(Reminder(
                    deadline_id=row.pk, recipient_id=row.escalation_user_id,
                    stage=Reminder.Stage.ESCALATION, scheduled_for=row.escalate_at,
                ))
        Reminder.objects.bulk_create(created)
    return [reminder.pk for reminder in created]


def reminders_mark_dispatched(*, reminder_ids: list[int], now: datetime | None = None) -> None:
    Reminder.objects.filter(pk__in=reminder_ids).update(dispatched_at=now or timezone.now())


def reminders_stale(*, now: datetime | None = None, limit: int = 1000) -> list[int]:
    """Pending reminders whose delivery message may never have reached the broker (it was
    down, or the sweep died between commit and publish): due to be dispatched again. Delivery
    is idempotent, so dispatching one twice is harmless."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.REMINDER_REDISPATCH_AFTER_SECONDS)
    stale = Reminder.objects.filter(state=Reminder.State.PENDING).filter(
        models.Q(dispatched_at__lte=cutoff)
        | models.Q(dispatched_at__isnull=True, created_at__lte=cutoff)
    )
    return list(stale.order_by("dispatched_at").values_list("pk", flat=True)[:limit])
