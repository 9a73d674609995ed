"""Reads of the reminders engine, each scoped by what the caller may see (DESIGN §4)."""

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import BooleanField, Case, Exists, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone

from access.checks import (
    holders_of,
    may_manage_staff,
    may_view_trial,
    on_trials,
    people_on_trials_where,
    rows_with,
    trial_ids_held,
)
from access.codenames import MANAGE_STAFF, VIEW_TRIAL
from reminders.models import Deadline, ExportJob, Notification


def _trials() -> QuerySet:
    """Trials, reached through the deadline's string foreign key (reminders imports no app)."""
    trial = Deadline._meta.get_field("trial").related_model
    return trial._default_manager.all()  # type: ignore[union-attr]


def active_people() -> QuerySet:
    return get_user_model().objects.filter(is_active=True)


def trials_seen_by(*, user) -> QuerySet:
    """The trials a person may pick in a deadline filter or a new deadline."""
    return rows_with(queryset=_trials(), user=user, codename=VIEW_TRIAL, via="pk")


def sites_of_trials_seen_by(*, user) -> QuerySet:
    """Sites a hand-made deadline may point at (reached through the trial's relation)."""
    sites = _trials().model._meta.get_field("sites").related_model._default_manager.all()
    return sites.filter(trial__in=trials_seen_by(user=user))


def people_for_deadlines_of(*, user) -> QuerySet:
    """Whom the caller may give a deadline: the CRO people now on the trials they manage."""
    people = get_user_model().objects.filter(is_active=True).exclude(organisation__kind="SPONSOR")
    if not user.is_superuser:
        people = people.filter(pk__in=people_on_trials_where(user=user, codename=MANAGE_STAFF))
    return people.order_by("first_name", "last_name", "username")  # shown by full name


def may_hear_about(*, user, deadline: Deadline) -> bool:
    """Whether a reminder of this deadline may reach the person (they still see its trial)."""
    if deadline.trial_id is None or user.is_superuser:
        return user.is_active
    return user.is_active and may_view_trial(user=user, trial=deadline.trial_id)


def _reachable(user) -> Q:
    """Deadlines on no trial, or on a trial the user still sees."""
    return Q(trial__isnull=True) | on_trials(user=user, codename=VIEW_TRIAL, via="trial_id")


def deadline_scopes(*, user) -> list[Q] | None:
    """What deadlines_visible_to grants, as disjoint parts: every deadline of the trials whose
    staff the user manages (the CRM), then their own deadlines and escalations on no trial or
    on a trial they see but do not manage. None for an administrator (everything); nothing
    for the anonymous. The trials are read first (once per request), so that each part is an
    index the database reads alone, or combines with the other's."""
    if not user.is_authenticated:
        return []
    if user.is_superuser:
        return None
    held = trial_ids_held(user=user, codenames=(VIEW_TRIAL, MANAGE_STAFF))
    managed = held[MANAGE_STAFF]
    seen_only = sorted(set(held[VIEW_TRIAL]) - set(managed))
    mine = Q(owner=user) | Q(escalation_user=user)
    return [Q(trial_id__in=managed), mine & (Q(trial__isnull=True) | Q(trial_id__in=seen_only))]


def deadlines_visible_to(*, user) -> QuerySet[Deadline]:
    """A person's own deadlines and escalations (on trials they still see, or on none), and
    every deadline of the trials whose staff they manage (the CRM). Sponsors see none of the
    CRO's working deadlines; administrators see all."""
    return deadlines_scoped(queryset=Deadline.objects.all(), user=user)


def deadlines_scoped(*, queryset: QuerySet[Deadline], user) -> QuerySet[Deadline]:
    """The rows of `queryset` the user may see (deadlines_visible_to's rule)."""
    parts = deadline_scopes(user=user)
    if parts is None:
        return queryset
    if not parts:
        return queryset.none()
    return queryset.filter(parts[0] | parts[1])


def deadlines_counted(*, queryset: QuerySet[Deadline], user) -> int:
    """How many rows of `queryset` the user may see, counted part by part: each part's count
    reads one index (trial, or owner and escalation), where a count of their OR reads every
    row it counts from the table."""
    parts = deadline_scopes(user=user)
    if parts is None:
        return queryset.count()
    return sum(queryset.filter(part).count() for part in parts)


def overdue_deadlines(*, now: datetime) -> Q:
    return Q(state=Deadline.State.OPEN, due_at__lte=now)


def deadlines_for_list(*, queryset: QuerySet[Deadline], now: datetime | None = None):
    """Open first by due time (so the overdue lead), then the closed; with what a list row
    shows, in one query. The order is the deadline_list_order index's."""
    now = now or timezone.now()
    return (
        queryset.select_related("trial", "owner", "escalation_user")
        .annotate(overdue=Case(When(overdue_deadlines(now=now), then=Value(True)),
                               default=Value(False), output_field=BooleanField()))
        .order_by("closed", "due_at", "id")
    )


def deadlines_of_trial(*, trial) -> QuerySet[Deadline]:
    """A trial's deadlines, each marked with whether its owner still works on the trial (a
    leaver's deadlines need a new owner: their reminders are no longer sent)."""
    on_trial = holders_of(codename=VIEW_TRIAL, trial=OuterRef("trial_id")).filter(
        pk=OuterRef("owner_id"))
    # Both as subqueries: a join to the owner would stay in the list's COUNT.
    administrator = get_user_model().objects.filter(pk=OuterRef("owner_id"), is_superuser=True)
    return Deadline.objects.filter(trial=trial).annotate(
        owner_on_trial=Exists(on_trial) | Exists(administrator))


# The distinct owners of a trial's deadlines by a skip scan of index deadline_trial_owner: one
# index probe per owner (a trial has a few hundred) instead of reading its 100,000 entries.
_TRIAL_OWNERS = """
WITH RECURSIVE owners(id) AS (
    SELECT MIN(owner_id) FROM {table} WHERE trial_id = %(trial)s
    UNION ALL
    SELECT (SELECT MIN(d.owner_id) FROM {table} d
            WHERE d.trial_id = %(trial)s AND d.owner_id > owners.id)
    FROM owners WHERE owners.id IS NOT NULL
)
SELECT id FROM owners WHERE id IS NOT NULL
"""


def deadline_owner_ids_of_trial(*, trial_id: int) -> list[int]:
    """The people who own deadlines of this trial."""
    with connection.cursor() as cursor:
        cursor.execute(_TRIAL_OWNERS.format(table=Deadline._meta.db_table),
                       {"trial": trial_id})
        return [row[0] for row in cursor.fetchall()]


def calendar_deadlines_of(*, user) -> QuerySet[Deadline]:
    """What a person's calendar feed shows: their open deadlines on trials they can see now
    (and personal ones, such as training expiry), nothing of trials they have lost."""
    reachable = Q() if user.is_superuser else _reachable(user)
    return (
        Deadline.objects.filter(owner=user, state=Deadline.State.OPEN)
        .filter(reachable).select_related("trial").order_by("due_at", "id")
    )


def notifications_of(*, user) -> QuerySet[Notification]:
    if not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(user=user)


def unread_count(*, user) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def digest_contents(*, user, now: datetime) -> dict:
    """A person's open deadlines that are overdue or due within a week (on trials they can
    see), and their unread notifications of the last day."""
    horizon = now + timedelta(days=7)
    deadlines = list(
        deadlines_for_list(
            queryset=calendar_deadlines_of(user=user).filter(due_at__lte=horizon), now=now
        )[:100]
    )
    notifications = list(
        Notification.objects.filter(user=user, read_at__isnull=True,
                                    created_at__gte=now - timedelta(days=1))[:50]
    )
    overdue = sum(1 for d in deadlines if d.overdue)
    return {"deadlines": deadlines, "notifications": notifications, "overdue_count": overdue}


def deadline_creation_refusal(*, by, trial, owner, escalation_user=None) -> tuple[str, str] | None:
    """Why `by` may not set this hand-made deadline, as (field, message); None when they may.
    Anyone of the CRO on the trial sets their own; its CRM sets them for the trial's people."""
    if by.is_sponsor_user or not may_view_trial(user=by, trial=trial):
        return ("trial", "You cannot set deadlines on this trial.")
    if owner.pk != by.pk and not may_manage_staff(user=by, trial=trial):
        return ("owner", "Only the trial's CRM sets deadlines for other people.")
    for field, person in (("owner", owner), ("escalation_user", escalation_user)):
        if person is None:
            continue
        if person.is_sponsor_user or not may_view_trial(user=person, trial=trial):
            return (field, f"{person.full_name} does not work on this trial.")
    return None


def trial_people_ids(*, trial) -> QuerySet:
    """Ids of the CRO people who work on the trial now (who may own its deadlines)."""
    return holders_of(codename=VIEW_TRIAL, trial=trial).filter(
        organisation__kind="CRO").values("pk")


# ---- list exports

EXPORT_REDISPATCH_AFTER = timedelta(seconds=60)


def export_jobs_stale(*, now: datetime | None = None) -> list[int]:
    """Queued exports whose message has not reached a worker a minute after the request."""
    cutoff = (now or timezone.now()) - EXPORT_REDISPATCH_AFTER
    return list(ExportJob.objects.filter(state=ExportJob.State.QUEUED, created_at__lt=cutoff)
                .filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=cutoff))
                .values_list("pk", flat=True)[:100])


def export_job_of(*, user, pk: int) -> ExportJob | None:
    """An export job, only for the person who asked for it."""
    if not user.is_authenticated:
        return None
    return ExportJob.objects.filter(pk=pk, created_by=user).first()
