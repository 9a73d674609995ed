"""Training records and their expiry deadlines, escalated to the person's home trial's CRM."""

from datetime import date

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from croportal.audit import audited_save
from croportal.concurrency import apply_fields, lock_for_update
from croportal.exceptions import ApplicationError
from croportal.timezones import start_of_day, zone_of
from reminders.models import Deadline
from reminders.policies import Kind as DeadlineKind
from reminders.services import deadline_close, deadline_upsert
from staffing.models import (
    Assignment,
    Role,
    TrainingRecord,
    User,
)
from staffing.selectors import trial_crm

TRAINING_EDITABLE_FIELDS = frozenset({"kind", "title", "completed_on", "expires_on"})


# Dates outside these bounds are typing errors, and would overflow the reminder arithmetic.
EARLIEST_TRAINING = date(1900, 1, 1)


LONGEST_VALIDITY_YEARS = 100


def _add_years(day: date, years: int) -> date:
    """The same day so many years on; 29 February becomes 28 February in a common year."""
    if day.year + years > date.max.year:
        return date.max  # only for a date far in the future, which the checks then refuse
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def training_default_expiry(*, kind: str, completed_on: date) -> date | None:
    """GCP training is refreshed every GCP_TRAINING_VALIDITY_YEARS (ICH E6(R2) 2.8 asks for
    current training; the CRO's SOP sets the interval); other kinds lapse only when told."""
    if kind != TrainingRecord.Kind.GCP:
        return None
    return _add_years(completed_on, settings.GCP_TRAINING_VALIDITY_YEARS)


def training_record_check(*, record: TrainingRecord) -> None:
    """The rules on a training record's kind and dates (an ApplicationError names the field)."""
    if record.kind not in TrainingRecord.Kind.values:
        raise ApplicationError(f"Unknown training kind {record.kind!r}.", field="kind")
    today = timezone.localdate(timezone=zone_of(record.user))
    if record.completed_on > today:
        raise ApplicationError("The completion date is in the future.", field="completed_on")
    if record.completed_on < EARLIEST_TRAINING:
        raise ApplicationError("The completion date is before 1900.", field="completed_on")
    if record.expires_on is None:
        return
    if record.expires_on < record.completed_on:
        raise ApplicationError("The expiry date is before the completion date.",
                               field="expires_on")
    if record.expires_on > _add_years(record.completed_on, LONGEST_VALIDITY_YEARS):
        raise ApplicationError(
            f"The expiry date is more than {LONGEST_VALIDITY_YEARS} years after completion.",
            field="expires_on")


@transaction.atomic
def training_record_create(
    *, user: User, kind: str, completed_on: date, by: User, expires_on: date | None = None,
    title: str = "",
) -> TrainingRecord:
    """Record a completed training; its expiry becomes a reminder deadline."""
    if expires_on is None and kind in TrainingRecord.Kind.values:
        expires_on = training_default_expiry(kind=kind, completed_on=completed_on)
    record = TrainingRecord(user=user, kind=kind, completed_on=completed_on,
                            expires_on=expires_on, title=(title or "").strip())
    training_record_check(record=record)
    audited_save(record, by=by, reason="Training recorded")
    _training_deadlines_sync(user=user, kind=record.kind, title=record.title)
    return record


@transaction.atomic
def training_record_update(*, record: TrainingRecord, by: User, reason: str,
                           expected_revision: int | None = None, **fields) -> TrainingRecord:
    """Correct a training record (with a reason); its expiry deadline follows."""
    if isinstance(fields.get("title"), str):
        fields["title"] = fields["title"].strip()
    given, record = record, lock_for_update(record, expected_revision=expected_revision,
                                            related=("user",))
    before = (record.kind, record.title)
    old_default = training_default_expiry(kind=record.kind, completed_on=record.completed_on)
    apply_fields(record, fields, editable=TRAINING_EDITABLE_FIELDS)
    # An expiry that was the GCP default follows a corrected completion date.
    if record.expires_on is None or (
        "expires_on" not in fields and record.expires_on == old_default
    ):
        record.expires_on = training_default_expiry(kind=record.kind,
                                                    completed_on=record.completed_on)
    training_record_check(record=record)
    audited_save(record, by=by, reason=reason)
    _training_deadlines_sync(user=record.user, kind=before[0], title=before[1])
    if (record.kind, record.title) != before:
        _training_deadlines_sync(user=record.user, kind=record.kind, title=record.title)
    given.refresh_from_db()  # the caller's copy shows what was written
    return record


def _training_deadlines_sync(*, user: User, kind: str, title: str) -> None:
    """Only the latest-expiring record of one training keeps an expiry deadline: renewing a
    certificate ends the old one's reminders (done), and back-filling an old certificate
    never starts any. Protocol and "other" trainings are told apart by their title too."""
    same = TrainingRecord.objects.filter(user=user, kind=kind)
    if kind in (TrainingRecord.Kind.PROTOCOL, TrainingRecord.Kind.OTHER):
        same = same.filter(title__iexact=title)
    records = list(same.order_by(F("expires_on").desc(nulls_last=True), "-completed_on", "-pk"))
    for index, record in enumerate(records):
        if index == 0 and record.expires_on is not None:
            _training_deadline_open(record=record, user=user, expires_on=record.expires_on)
        else:
            state = "done" if record.expires_on is not None else "cancelled"
            deadline_close(kind=DeadlineKind.TRAINING_EXPIRY, subject=record, state=state)


def _affected_by(assignment: Assignment) -> list[User]:
    """Whose training deadlines an assignment change may re-route: the person's own (their home
    trial may change) and, for a CRM, those of the people whose escalations go to them there."""
    users = [assignment.user]
    if assignment.role == Role.CRM:
        users += _escalating_to(user=assignment.user, trial=assignment.trial)
    return users


def _escalating_to(*, user: User, trial) -> list[User]:
    owner_ids = Deadline.objects.filter(
        kind=DeadlineKind.TRAINING_EXPIRY, state=Deadline.State.OPEN, trial=trial,
        escalation_user=user).values("owner_id")
    # Also everyone on the trial: a new CRM may be the first the trial's people can escalate to.
    on_trial = Assignment.objects.filter(trial=trial).values("user_id")
    return list(User.objects.filter(Q(pk__in=owner_ids) | Q(pk__in=on_trial)).exclude(pk=user.pk))


def training_escalations_refresh(*, users: list[User]) -> None:
    """Point each open training-expiry deadline of these people at their current home trial
    and its CRM (assignments changed). Owner reminders are not restarted."""
    records = TrainingRecord.objects.filter(
        user__in=[u.pk for u in users],
        pk__in=Deadline.objects.filter(
            kind=DeadlineKind.TRAINING_EXPIRY, state=Deadline.State.OPEN,
            content_type=ContentType.objects.get_for_model(TrainingRecord),
        ).values("object_id"),
    ).select_related("user")
    for record in records:
        if record.expires_on is not None:
            _training_deadline_open(record=record, user=record.user, expires_on=record.expires_on)


def _training_deadline_open(*, record: TrainingRecord, user: User, expires_on: date) -> None:
    trial, escalation_user = _home_trial_and_crm(user=user)
    deadline_upsert(
        kind=DeadlineKind.TRAINING_EXPIRY, subject=record, owner=user,
        due_at=start_of_day(expires_on, user), due_on=expires_on,
        title=f"{record.get_kind_display()} training expires: {user.full_name}",
        trial=trial, escalation_user=escalation_user, url=reverse("staffing:training"),
    )


def _home_trial_and_crm(*, user: User) -> tuple:
    """The person's home trial (their largest active allocation; ties: earliest start, then
    lowest id) and the trial's CRM to escalate to (never the person)."""
    today = timezone.localdate()
    home = (Assignment.objects.active_on(today).filter(user=user).select_related("trial")
            .order_by("-allocation", "start_date", "pk").first())
    if home is None:
        return None, None
    return home.trial, trial_crm(trial_id=home.trial_id, today=today, excluding=user)
