"""A trial's safety settings change (an IND or EU CT number added, its safety time zone, its
medical-review setting, its DIBD): every case of the trial is evaluated again, and its DSUR
deadlines follow the DIBD. Hooked on every audited save of a trial (page, API, admin), so no
door skips it."""

from datetime import date

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from croportal.formats import format_date
from reminders.models import Deadline
from reminders.policies import Kind as DeadlineKind
from reminders.services import deadline_upsert
from safety.dsur import dsur_cycles
from safety.models import AdverseEvent
from safety.services.obligations import case_evaluate, due_moment, people_of
from trials.models import Trial

CASE_SETTINGS = ("ind_number", "eu_ct_number", "safety_timezone", "medical_review_days")


def trial_safety_settings_changed(*, instance, by=None, reason: str = "") -> None:
    """After an audited save: act on the safety settings that changed (none: nothing)."""
    if not isinstance(instance, Trial):
        return
    latest, previous = [*instance.history.order_by("-history_id")[:2], None, None][:2]
    if latest is None:
        return
    if previous is None or previous.dibd != latest.dibd:
        dsur_deadlines_sync(trial=instance)
    if previous is not None and any(getattr(previous, name) != getattr(latest, name)
                                    for name in CASE_SETTINGS):
        for event in AdverseEvent.objects.filter(trial=instance).only("pk").iterator():
            case_evaluate(event=event)


@transaction.atomic
def dsur_deadlines_sync(*, trial: Trial, today: date | None = None) -> int:
    """Open the DSUR deadlines the trial's DIBD calls for (owned by the medical monitor,
    escalating to the CRM); a DIBD moved or removed cancels those no longer due. A DSUR the
    owner marked done stays done. Returns how many are open."""
    today = today or timezone.localdate()
    held = Deadline.objects.select_for_update().filter(
        kind=DeadlineKind.DSUR, content_type=ContentType.objects.get_for_model(Trial),
        object_id=trial.pk)
    cycles = {} if trial.dibd is None else {
        f"dsur-{lock:%Y-%m-%d}": (lock, due) for lock, due in dsur_cycles(
            dibd=trial.dibd, tracked_from=trial.created_at.date(), today=today)}
    for deadline in held.filter(state=Deadline.State.OPEN).exclude(key__in=list(cycles)):
        deadline.state, deadline.done_at = Deadline.State.CANCELLED, timezone.now()
        deadline.remind_at = deadline.escalate_at = deadline.next_reminder_at = None
        deadline.save()
    known = set(held.values_list("key", flat=True))
    owner, escalation = people_of(trial=trial)
    for key, (lock, due) in cycles.items():
        if key in known or owner is None:
            continue
        deadline_upsert(
            kind=DeadlineKind.DSUR, subject=trial, key=key, owner=owner,
            escalation_user=escalation, trial=trial,
            due_at=due_moment(day=due, zone=trial.safety_timezone), due_on=due,
            title=f"DSUR of {trial.protocol_number}, data lock point {format_date(lock)}",
            url=reverse("trials:detail", args=[trial.pk]))
    return held.filter(state=Deadline.State.OPEN).count()


def dsur_deadlines_sync_all(*, today: date | None = None) -> int:
    """Every trial with a DIBD (the daily task: a new cycle opens 60 days before its lock)."""
    return sum(dsur_deadlines_sync(trial=trial, today=today)
               for trial in Trial.objects.filter(dibd__isnull=False).iterator())
