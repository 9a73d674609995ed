"""Reads of the reminders engine, each scoped by what the caller may see (DESIGN §4)."""

from datetime import datetime, timedelta

from django.db.models import BooleanField, Case, Exists, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone

from reminders.models import Deadline, Notification
from trials.models import TrialUserObjectPermission
from trials.selectors import trial_has_permission, trial_ids_with


def _visible_trial_ids(user):
    return trial_ids_with(user=user, codename="view_trial")


def deadlines_visible_to(*, user) -> QuerySet[Deadline]:
    """A person's own deadlines and escalations (on trials they still see, or on none), and
    every deadline of the trials whose staff they manage (the CRM). Sponsors see none of the
    CRO's working deadlines; administrators see all."""
    if not user.is_authenticated:
        return Deadline.objects.none()
    if user.is_superuser:
        return Deadline.objects.all()
    mine = Q(owner=user) | Q(escalation_user=user)
    reachable = Q(trial__isnull=True) | Q(trial_id__in=_visible_trial_ids(user))
    managed = Q(trial_id__in=trial_ids_with(user=user, codename="manage_staff"))
    return Deadline.objects.filter((mine & reachable) | managed)


def deadlines_for_list(queryset: QuerySet[Deadline], *, now: datetime | None = None):
    """Overdue first, then by due time; with what a list row shows, in one query."""
    now = now or timezone.now()
    return (
        queryset.select_related("trial", "owner", "escalation_user")
        .annotate(overdue=Case(
            When(state=Deadline.State.OPEN, due_at__lte=now, then=Value(True)),
            default=Value(False), output_field=BooleanField(),
        ))
        .order_by("-overdue", "due_at", "id")
    )


def deadlines_of_trial(*, trial) -> QuerySet[Deadline]:
    """A trial's deadlines, each marked with whether its owner still works on the trial (a
    leaver's deadlines need a new owner: their reminders are no longer sent)."""
    on_trial = TrialUserObjectPermission.objects.filter(
        user_id=OuterRef("owner_id"), content_object_id=OuterRef("trial_id"),
        permission__codename="view_trial")
    return Deadline.objects.filter(trial=trial).annotate(
        owner_on_trial=Exists(on_trial) | Q(owner__is_superuser=True))


def calendar_deadlines_of(*, user) -> QuerySet[Deadline]:
    """What a person's calendar feed shows: their open deadlines on trials they can see now
    (and personal ones, such as training expiry), nothing of trials they have lost."""
    if user.is_superuser:
        reachable = Q()
    else:
        reachable = Q(trial__isnull=True) | Q(trial_id__in=_visible_trial_ids(user))
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
            calendar_deadlines_of(user=user).filter(due_at__lte=horizon), now=now
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
    if by.is_sponsor_user or not trial_has_permission(user=by, trial=trial,
                                                      codename="view_trial"):
        return ("trial", "You cannot set deadlines on this trial.")
    if owner.pk != by.pk and not trial_has_permission(user=by, trial=trial,
                                                      codename="manage_staff"):
        return ("owner", "Only the trial's CRM sets deadlines for other people.")
    for field, person in (("owner", owner), ("escalation_user", escalation_user)):
        if person is None:
            continue
        if person.is_sponsor_user or not trial_has_permission(user=person, trial=trial,
                                                              codename="view_trial"):
            return (field, f"{person.full_name} does not work on this trial.")
    return None


def trial_people_ids(*, trial) -> QuerySet:
    """Ids of the CRO people who work on the trial now (who may own its deadlines)."""
    return TrialUserObjectPermission.objects.filter(
        content_object=trial, permission__codename="view_trial",
        user__organisation__kind="CRO").values("user_id")
