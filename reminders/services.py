"""Writes of the reminders engine: deadlines, the sweep's claims, deliveries, digests, feeds."""

import hashlib
import logging
import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMessage
from django.db import IntegrityError, models, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from croportal.exceptions import ApplicationError
from croportal.validation import check_date_in_range
from reminders.models import (
    CalendarFeed,
    Deadline,
    Digest,
    Notification,
    NotificationPreference,
    Reminder,
    ReminderPolicy,
)
from reminders.policies import DEFAULT_POLICIES, MANUAL_KINDS, Kind, Policy, check_kind
from reminders.selectors import deadline_creation_refusal, digest_contents
from staffing.models import User
from trials.selectors import trial_has_permission, trial_ids_with

logger = logging.getLogger(__name__)


# ------------------------------------------------------------------------------------ policies

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


# ----------------------------------------------------------------------------------- deadlines

def _check_due(due_at: datetime) -> None:
    if not isinstance(due_at, datetime) or timezone.is_naive(due_at):
        raise ApplicationError("The due time needs a date, a time and a time zone.",
                               field="due_at")
    check_date_in_range(due_at, field="due_at")


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
    now: datetime | None = None,
) -> Deadline:
    """Open (or move, or reopen) the deadline of `kind` on `subject`. Called by domain services
    whenever the record behind it changes; a due time in the past is fine (it is overdue)."""
    check_kind(kind)
    _check_due(due_at)
    if not (title or "").strip():
        raise ApplicationError("A deadline needs a title.", field="title")
    now = now or timezone.now()
    content_type = ContentType.objects.get_for_model(subject)
    deadline = (
        Deadline.objects.select_for_update()
        .filter(kind=kind, content_type=content_type, object_id=subject.pk, key=key)
        .first()
    )
    fields = {"owner": owner, "due_at": due_at, "title": title.strip()[:300], "trial": trial,
              "escalation_user": escalation_user, "url": url}
    if deadline is None:
        deadline = Deadline(kind=kind, content_type=content_type, object_id=subject.pk, key=key,
                            **fields)
        _schedule(deadline, policies()[kind], now, fresh=True)
        deadline.save()
        return deadline
    moved = (
        deadline.state != Deadline.State.OPEN
        or deadline.due_at != due_at
        or deadline.owner_id != getattr(owner, "pk", owner)
    )
    new_escalation = (
        deadline.escalation_user_id != getattr(escalation_user, "pk", escalation_user))
    for name, value in fields.items():
        setattr(deadline, name, value)
    if moved:
        deadline.state, deadline.done_at = Deadline.State.OPEN, None
        _schedule(deadline, policies()[kind], now, fresh=True)
    elif new_escalation:
        # Only whom to escalate to changed: the owner's reminders go on as they were, and a
        # pending escalation goes to the new person (or nobody); a sent one is not repeated.
        pending = deadline.escalated_at is None and escalation_user is not None
        deadline.escalate_at = (
            policies()[kind].escalation_time(deadline.due_at) if pending else None)
        _schedule(deadline, policies()[kind], now, fresh=False)
    deadline.save()
    return deadline


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
    """Mark a hand-made deadline done (the portal's own close when their records change)."""
    if deadline.kind not in MANUAL_KINDS:
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
    if locked.trial is None or not trial_has_permission(user=by, trial=locked.trial,
                                                        codename="manage_staff"):
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


# ------------------------------------------------------------------------------------ the sweep

def _stage_of(scheduled: datetime, due_at: datetime, policy: Policy) -> str:
    if scheduled < due_at and scheduled not in policy.stage_times(due_at):
        return Reminder.Stage.NEW  # sent at once because the deadline arrived in its window
    if scheduled < due_at:
        return Reminder.Stage.BEFORE_DUE
    if scheduled == due_at:
        return Reminder.Stage.AT_DUE
    return Reminder.Stage.OVERDUE


def due_deadlines(now: datetime, *, batch: int | None = None) -> models.QuerySet[Deadline]:
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
        claims = [_plan(row, known[row.kind], now) for row in due_deadlines(now, batch=batch)]
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


def reminders_mark_dispatched(reminder_ids: list[int], *, now: datetime | None = None) -> None:
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


# ---------------------------------------------------------------------------------- delivery

def preference_of(user) -> NotificationPreference:
    try:
        return user.notification_preference
    except NotificationPreference.DoesNotExist:
        return NotificationPreference(user=user)


def _local(moment: datetime, user) -> datetime:
    try:
        zone = ZoneInfo(user.timezone or "UTC")
    except (ValueError, KeyError):
        zone = ZoneInfo("UTC")
    return moment.astimezone(zone)


def reminder_message(reminder: Reminder) -> str:
    deadline = reminder.deadline
    due = _local(deadline.due_at, reminder.recipient).strftime("%d %b %Y %H:%M %Z")
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


def _may_hear_about(user, deadline: Deadline) -> bool:
    if deadline.trial_id is None or user.is_superuser:
        return user.is_active
    return user.is_active and trial_ids_with(user=user, codename="view_trial").filter(
        content_object_id=deadline.trial_id).exists()


def absolute_url(path: str) -> str:
    if not path:
        return settings.PORTAL_BASE_URL.rstrip("/") + "/deadlines/"
    if path.startswith(("http://", "https://")):
        return path
    return settings.PORTAL_BASE_URL.rstrip("/") + "/" + path.lstrip("/")


def reminder_deliver(reminder_id: int) -> str:
    """Deliver one reminder: the in-app notification, then the e-mail. Safe to run again and
    concurrently for the same reminder (a redelivered or duplicated message): the reminder row
    is locked while it is worked on and each effect happens once. Raises on an e-mail failure
    so that the task retries; the notification already written stays."""
    with transaction.atomic():
        reminder = (
            Reminder.objects.select_for_update(of=("self",))
            .select_related("deadline", "recipient", "deadline__owner")
            .filter(pk=reminder_id).first()
        )
        if reminder is None or reminder.state != Reminder.State.PENDING:
            return "gone" if reminder is None else reminder.state
        now = timezone.now()
        reminder.attempts += 1
        deadline = reminder.deadline
        if deadline.state != Deadline.State.OPEN:  # closed since the claim: nothing to say
            reminder.state, reminder.finished_at = Reminder.State.SKIPPED, now
            reminder.save(update_fields=["state", "finished_at", "attempts"])
            return reminder.state
        if not _may_hear_about(reminder.recipient, deadline):
            # Off the trial since: not a word about it (its CRM sees the deadline unowned).
            reminder.state, reminder.finished_at = Reminder.State.SKIPPED, now
            reminder.last_error = "The recipient no longer has access to the deadline's trial."
            reminder.save(update_fields=["state", "finished_at", "attempts", "last_error"])
            return reminder.state
        message = reminder_message(reminder)
        if reminder.notified_at is None:
            Notification.objects.create(
                user=reminder.recipient, kind=deadline.kind, message=message[:500],
                url=deadline.url or "/deadlines/", deadline=deadline, reminder=reminder,
            )
            reminder.notified_at = now
        reminder.save(update_fields=["attempts", "notified_at"])
    with transaction.atomic():
        # Locked again while mailing: a concurrent duplicate waits here and then finds it sent.
        reminder = (
            Reminder.objects.select_for_update(of=("self",))
            .select_related("deadline", "recipient", "deadline__owner").get(pk=reminder_id)
        )
        if reminder.state != Reminder.State.PENDING:
            return reminder.state
        recipient = reminder.recipient
        wants = preference_of(recipient).wants_email_for(reminder.deadline.kind)
        if wants and recipient.is_active and recipient.email and reminder.emailed_at is None:
            _send_reminder_email(reminder, message)
            reminder.emailed_at = timezone.now()
        reminder.state, reminder.finished_at = Reminder.State.SENT, timezone.now()
        reminder.last_error = ""
        reminder.save(update_fields=["state", "finished_at", "emailed_at", "last_error"])
        return reminder.state


def _send_reminder_email(reminder: Reminder, message: str) -> None:
    deadline = reminder.deadline
    context = {"reminder": reminder, "deadline": deadline, "message": message,
               "link": absolute_url(deadline.url), "recipient": reminder.recipient,
               "due_local": _local(deadline.due_at, reminder.recipient)}
    body = render_to_string("reminders/email/reminder.txt", context)
    subject = f"[CRO Portal] {message}"[:200]
    EmailMessage(subject=subject, body=body, to=[reminder.recipient.email]).send()


def reminder_record_error(reminder_id: int, error: str, *, retry_at: datetime) -> None:
    """Note a failed attempt and when the retry is due: `dispatched_at` moves to the retry
    time, so the stale re-dispatch does not start a second chain while this one waits."""
    Reminder.objects.filter(pk=reminder_id, state=Reminder.State.PENDING).update(
        last_error=error[:2000], dispatched_at=retry_at)


@transaction.atomic
def reminder_fail(reminder_id: int, error: str) -> None:
    """Give up on a reminder whose delivery kept failing: mark it failed and flag its deadline.
    The deadline's schedule already moved on at the claim, so nothing waits behind it."""
    now = timezone.now()
    updated = Reminder.objects.filter(pk=reminder_id, state=Reminder.State.PENDING).update(
        state=Reminder.State.FAILED, last_error=error[:2000], finished_at=now)
    if updated:
        Deadline.objects.filter(reminders__pk=reminder_id).update(delivery_failed_at=now)
        logger.error("reminder %s failed for good: %s", reminder_id, error)


# ------------------------------------------------------------------------------ notifications

def notification_mark_read(*, notification: Notification, now: datetime | None = None) -> None:
    Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
        read_at=now or timezone.now())


def notifications_mark_all_read(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now())


@transaction.atomic
def preferences_update(*, user, email_enabled: bool, digest_only: bool, daily_digest: bool,
                       muted_kinds: list[str]) -> NotificationPreference:
    for kind in muted_kinds:
        check_kind(kind)
    preference, _ = NotificationPreference.objects.select_for_update().get_or_create(user=user)
    preference.email_enabled = email_enabled
    preference.digest_only = digest_only
    preference.daily_digest = daily_digest
    preference.muted_kinds = sorted(set(muted_kinds))
    preference.save()
    return preference


# ------------------------------------------------------------------------------------ digests

def _local_today(user, now: datetime) -> tuple[date, int]:
    local = _local(now, user)
    return local.date(), local.hour


def digest_send(*, user, now: datetime | None = None) -> Digest | None:
    """Send `user` today's digest (their local date) unless it went already. The Digest row is
    the claim: its unique (user, day) lets one run in, and it commits only with the e-mail."""
    now = now or timezone.now()
    day, hour = _local_today(user, now)
    if hour < settings.DIGEST_HOUR:
        return None
    preference = preference_of(user)
    if not preference.daily_digest or not user.email or not user.is_active:
        return None
    contents = digest_contents(user=user, now=now)
    try:
        with transaction.atomic():
            digest = Digest.objects.create(user=user, day=day,
                                           deadline_count=len(contents["deadlines"]))
            if contents["deadlines"] or contents["notifications"]:
                body = render_to_string("reminders/email/digest.txt", {
                    **contents, "user": user, "day": day,
                    "link": absolute_url("/deadlines/"),
                })
                subject = (f"[CRO Portal] Your deadlines for {day:%d %b %Y}: "
                           f"{contents['overdue_count']} overdue, "
                           f"{len(contents['deadlines']) - contents['overdue_count']} coming up")
                EmailMessage(subject=subject, body=body, to=[user.email]).send()
                digest.emailed = True
                digest.save(update_fields=["emailed"])
    except IntegrityError:
        return None  # today's digest was claimed by another run
    return digest


def digests_send(*, now: datetime | None = None) -> int:
    """Every active person whose local digest hour has come and who has had none today."""
    now = now or timezone.now()
    sent = 0
    users = User.objects.filter(is_active=True).exclude(email="").select_related(
        "notification_preference")
    already = set(Digest.objects.filter(day__gte=(now - timedelta(days=1)).date())
                  .values_list("user_id", "day"))
    for user in users:
        day, _ = _local_today(user, now)
        if (user.pk, day) in already:
            continue
        try:
            if digest_send(user=user, now=now):
                sent += 1
        except Exception:  # one person's mail failure must not stop everyone's digest
            logger.exception("digest for user %s failed; it is tried again next run", user.pk)
    return sent


# ------------------------------------------------------------------------------ calendar feed

def calendar_secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def calendar_feed_regenerate(*, user) -> str:
    """A new secret for the user's calendar URL; the old URL stops working at once."""
    secret = secrets.token_urlsafe(32)
    CalendarFeed.objects.update_or_create(
        user=user, defaults={"secret_hash": calendar_secret_hash(secret)})
    return secret


@transaction.atomic
def calendar_feed_revoke(*, user) -> None:
    CalendarFeed.objects.filter(user=user).delete()


def manual_kind_choices() -> list[tuple[str, str]]:
    return [(k.value, k.label) for k in Kind if k in MANUAL_KINDS]
