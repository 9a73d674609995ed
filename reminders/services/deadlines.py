"""Deadlines: opened or refreshed by the services that own what can be late, hand-made ones,
completion and reassignment; and each one's reminder schedule (the policies)."""

import logging
import uuid
from dataclasses import replace
from datetime import date, datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone

from access.checks import may_manage_staff
from croportal.exceptions import ApplicationError
from croportal.validation import check_date_in_range
from reminders.models import (
    Deadline,
    ReminderPolicy,
)
from reminders.policies import DEFAULT_POLICIES, DONE_BY_HAND, MANUAL_KINDS, Policy, check_kind
from reminders.selectors import (
    deadline_creation_refusal,
)

logger = logging.getLogger(__name__)


def policies() -> dict[str, Policy]:
    """Every kind's policy: the defaults, overridden by administrators' rows (one query)."""
    result = dict(DEFAULT_POLICIES)
    for row in ReminderPolicy.objects.all():
        try:
            result[row.kind] = _bounded(row.as_policy())
        except OverflowError:  # hours beyond any duration Python has: keep the default
            logger.warning("reminder policy for %s ignored: its hours overflow", row.kind)
    return result


# Longer than the portal's whole date range (croportal.validation): a stage further from its
# due time lies beyond every date the portal holds, and capping it keeps due ± offset on the
# calendar, so no stage arithmetic raises OverflowError whatever an administrator types.
MAX_STAGE_OFFSET = timedelta(days=300 * 366)


def _bounded(policy: Policy) -> Policy:
    def cap(offset: timedelta | None) -> timedelta | None:
        return None if offset is None else min(offset, MAX_STAGE_OFFSET)

    return replace(policy, before=tuple(min(b, MAX_STAGE_OFFSET) for b in policy.before),
                   overdue_every=cap(policy.overdue_every),
                   escalate_after=cap(policy.escalate_after))


def _schedule(deadline: Deadline, policy: Policy, now: datetime, *, fresh: bool) -> None:
    """Set the owner's next reminder and the pending escalation on an open deadline."""
    if fresh:
        deadline.remind_at = policy.first(deadline.due_at, now)
        escalation = policy.escalation_time(deadline.due_at)
        deadline.escalated_at = None
        deadline.escalate_at = escalation if deadline.escalation_user_id else None
    deadline.next_reminder_at = _earliest(deadline.remind_at, deadline.escalate_at)


def _earliest(*moments: datetime | None) -> datetime | None:
    present = [m for m in moments if m is not None]
    return min(present) if present else None


def _check_due(due_at: datetime, due_on: date | None) -> None:
    if not isinstance(due_at, datetime) or timezone.is_naive(due_at):
        raise ApplicationError("The due time needs a date, a time and a time zone.",
                               field="due_at")
    check_date_in_range(due_at, field="due_at")
    if due_on is not None and (isinstance(due_on, datetime) or not isinstance(due_on, date)):
        raise ApplicationError("A date-only deadline's day is a date.", field="due_on")
    check_date_in_range(due_on, field="due_on")


@transaction.atomic
def deadline_upsert(
    *,
    kind: str,
    subject: models.Model,
    owner,
    due_at: datetime,
    title: str,
    trial=None,
    escalation_user=None,
    url: str = "",
    key: str = "",
    due_on: date | None = None,
    now: datetime | None = None,
) -> Deadline:
    """Open (or move, or reopen) the deadline of `kind` on `subject`. Called by domain services
    whenever the record behind it changes; a due time in the past is fine (it is overdue).
    A date-only deadline passes its day as `due_on` (an all-day event in calendars) besides
    the moment `due_at` from which it counts as late (the sweep's clock)."""
    check_kind(kind)
    _check_due(due_at, due_on)
    if not (title or "").strip():
        raise ApplicationError("A deadline needs a title.", field="title")
    now = now or timezone.now()
    content_type = ContentType.objects.get_for_model(subject)
    deadline = (
        Deadline.objects.select_for_update()
        .filter(kind=kind, content_type=content_type, object_id=subject.pk, key=key)
        .first()
    )
    fields = {"owner": owner, "due_at": due_at, "due_on": due_on, "title": title.strip()[:300],
              "trial": trial, "escalation_user": escalation_user, "url": url}
    if deadline is None:
        deadline = Deadline(kind=kind, content_type=content_type, object_id=subject.pk, key=key,
                            **fields)
        _schedule(deadline, policies()[kind], now, fresh=True)
    else:
        _refresh(deadline, fields, policies()[kind], now)
    deadline.save()
    return deadline


def _refresh(deadline: Deadline, fields: dict, policy: Policy, now: datetime) -> None:
    """Bring an existing deadline to ``fields``: a new due time or owner (or a closed one
    reopening) restarts its reminders; only a new escalation person re-aims the escalation."""
    owner, escalation_user = fields["owner"], fields["escalation_user"]
    moved = (
        deadline.state != Deadline.State.OPEN
        or deadline.due_at != fields["due_at"]
        or deadline.owner_id != getattr(owner, "pk", owner)
    )
    new_escalation = (
        deadline.escalation_user_id != getattr(escalation_user, "pk", escalation_user))
    for name, value in fields.items():
        setattr(deadline, name, value)
    if moved:
        deadline.state, deadline.done_at = Deadline.State.OPEN, None
        _schedule(deadline, policy, now, fresh=True)
    elif new_escalation:
        # Only whom to escalate to changed: the owner's reminders go on as they were, and a
        # pending escalation goes to the new person (or nobody); a sent one is not repeated.
        pending = deadline.escalated_at is None and escalation_user is not None
        deadline.escalate_at = policy.escalation_time(deadline.due_at) if pending else None
        _schedule(deadline, policy, now, fresh=False)


@transaction.atomic
def deadline_close(
    *, kind: str, subject: models.Model, key: str = "", state: str = Deadline.State.DONE,
    now: datetime | None = None,
) -> Deadline | None:
    """Close the deadline of `kind` on `subject` (done, or cancelled); nothing more is sent.
    Closing one that does not exist is a no-op (the record never needed it)."""
    check_kind(kind)
    deadline = (
        Deadline.objects.select_for_update()
        .filter(kind=kind, content_type=ContentType.objects.get_for_model(subject),
                object_id=subject.pk, key=key)
        .first()
    )
    if deadline is None:
        return None
    return _close(deadline, state=state, now=now)


def _close(deadline: Deadline, *, state: str, now: datetime | None = None,
           by=None) -> Deadline:
    if state not in (Deadline.State.DONE, Deadline.State.CANCELLED):
        raise ApplicationError("A deadline closes as done or cancelled.", field="state")
    if deadline.state != Deadline.State.OPEN:
        return deadline
    deadline.state = state
    deadline.done_at = now or timezone.now()
    deadline.closed_by = by
    deadline.remind_at = deadline.escalate_at = deadline.next_reminder_at = None
    deadline.save(update_fields=["state", "done_at", "closed_by", "remind_at", "escalate_at",
                                 "next_reminder_at", "updated_at"])
    return deadline


_UNSET = object()


@transaction.atomic
def deadline_create_manual(
    *, by, kind: str, trial, due_at: datetime, title: str, owner=None, site=None,
    escalation_user=_UNSET,
) -> Deadline:
    """A deadline a person sets by hand (a task, a planned visit, a report due) on a trial or
    one of its sites: their own (escalating to nobody), or, as the trial's CRM, someone else's
    (escalating to the CRM who set it). Who may is decided here, for every door."""
    owner = owner or by
    explicit = escalation_user is not _UNSET
    escalation = escalation_user if explicit else (None if owner.pk == by.pk else by)
    check_kind(kind)
    if kind not in MANUAL_KINDS:
        allowed = ", ".join(sorted(MANUAL_KINDS))
        raise ApplicationError(
            f"Deadlines of kind {kind!r} are kept by the portal itself; by hand: {allowed}.",
            field="kind")
    _refuse_manual(by=by, trial=trial, owner=owner, escalation_user=escalation)
    if site is not None and site.trial_id != trial.pk:
        raise ApplicationError("The site does not belong to this trial.", field="site")
    subject = site or trial
    url = (f"/sites/{site.pk}/" if site is not None else f"/trials/{trial.pk}/")
    return deadline_upsert(
        kind=kind, subject=subject, owner=owner, due_at=due_at, title=title, trial=trial,
        escalation_user=escalation, url=url, key=f"manual-{uuid.uuid4().hex}",
    )


def _refuse_manual(*, by, trial, owner, escalation_user) -> None:
    refusal = deadline_creation_refusal(by=by, trial=trial, owner=owner,
                                        escalation_user=escalation_user)
    if refusal:
        raise ApplicationError(refusal[1], field=refusal[0])
    if escalation_user is not None and escalation_user.pk == owner.pk:
        raise ApplicationError("A deadline cannot escalate to its own owner: choose someone "
                               "else, or nobody.", field="escalation_user")


@transaction.atomic
def deadline_complete(*, deadline: Deadline, by) -> Deadline:
    """Mark a hand-made deadline (or a DSUR) done; the portal's own close when their records
    change."""
    if deadline.kind not in DONE_BY_HAND:
        raise ApplicationError(
            "This deadline closes by itself when its record is brought up to date.",
            field="kind")
    locked = Deadline.objects.select_for_update().get(pk=deadline.pk)
    return _close(locked, state=Deadline.State.DONE, by=by)


@transaction.atomic
def deadline_reassign(*, deadline: Deadline, owner, by, now: datetime | None = None) -> Deadline:
    """The trial's CRM gives an open deadline to someone else on the trial (its owner left, or
    work moved); the new owner hears of it as of a new deadline."""
    locked = (Deadline.objects.select_related("trial").select_for_update(of=("self",))
              .get(pk=deadline.pk))
    if locked.trial_id is None or not may_manage_staff(user=by, trial=locked.trial_id):
        raise ApplicationError("Only the trial's CRM gives deadlines to someone else.",
                               status=403)
    if locked.state != Deadline.State.OPEN:
        raise ApplicationError("Only an open deadline can be given to someone else.",
                               field="owner")
    refusal = deadline_creation_refusal(by=by, trial=locked.trial, owner=owner)
    if refusal:
        raise ApplicationError(refusal[1], field=refusal[0])
    if locked.owner_id == owner.pk:
        return locked
    locked.owner = owner
    if locked.escalation_user_id == owner.pk:  # never escalate to oneself
        locked.escalation_user = by if by.pk != owner.pk else None
    _schedule(locked, policies()[locked.kind], now or timezone.now(), fresh=True)
    locked.save()
    return locked
