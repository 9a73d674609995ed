"""The clocks of a case: after every change, one service evaluates the rules of DOMAIN A1 to A3
(safety/rules.py) over the case's timeline and brings its stored results up to date — the SUSAR
flags, the site's timeliness, the medical-review deadline and the reporting obligations, each
obligation with its deadline in the reminders engine. Reads never evaluate rules."""

from datetime import datetime, timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from access.checks import may_review_safety
from croportal.audit import audited_save
from croportal.exceptions import ApplicationError
from croportal.timezones import start_of_day
from reminders.models import Deadline
from reminders.policies import Kind as DeadlineKind
from reminders.services import deadline_close, deadline_upsert
from safety import rules
from safety.models import (
    AdverseEvent,
    CaseVersion,
    ObligationStatus,
    ReportingObligation,
    ReviewStatus,
)
from staffing.models import User
from staffing.selectors import trial_crm, trial_medical_monitor

RECIPIENT_NAMES = {
    rules.FDA: "FDA", rules.EU_EUDRAVIGILANCE: "EudraVigilance",
    rules.INVESTIGATORS: "the participating investigators",
    rules.ETHICS_COMMITTEE: "the ethics committee",
}


class Zone:
    """A trial's safety time zone, as the timezone helper's 'person'."""

    def __init__(self, name: str) -> None:
        self.timezone = name


def _facts_from(data: dict) -> rules.Facts:
    return rules.Facts(
        criteria=frozenset(data.get("seriousness_criteria") or ()),
        investigator_causality=data.get("investigator_causality"),
        sponsor_causality=data.get("sponsor_causality"),
        expectedness=data.get("expectedness"),
    )


def _history_of(event: AdverseEvent) -> list[rules.Information]:
    versions = CaseVersion.objects.filter(adverse_event=event).order_by("number")
    return [rules.Information(received_at=v.received_at, kind=v.kind, facts=_facts_from(v.facts))
            for v in versions]


@transaction.atomic
def case_evaluate(*, event: AdverseEvent, now: datetime | None = None) -> AdverseEvent:
    """Evaluate the rules on the case as it now stands and store what they say."""
    now = now or timezone.now()
    event = AdverseEvent.objects.select_for_update().select_related("trial").get(pk=event.pk)
    trial = event.trial
    history = _history_of(event)
    latest = history[-1].facts
    applicable = rules.frameworks(ind_number=trial.ind_number, eu_ct_number=trial.eu_ct_number)
    people = people_of(trial=trial)
    _obligations_sync(event, history, applicable, people, now)
    event.is_susar = any(rules.is_susar(latest, framework=f) for f in applicable)
    event.susar_determined_at = rules.susar_determined_at(history, frameworks=applicable)
    event.site_report_late = rules.site_report_late(
        serious=rules.is_serious(latest), site_awareness_at=event.site_awareness_at,
        sponsor_awareness_at=event.sponsor_awareness_at)
    event.review_due_on = _review_deadline_sync(event, history, people, now)
    serious_since = rules.became_at(history, rules.is_serious)
    event.day_zero = serious_since and rules.day_zero(serious_since, zone=trial.safety_timezone)
    event.next_due_on = (event.obligations.filter(status=ObligationStatus.OPEN)
                         .order_by("due_on").values_list("due_on", flat=True).first())
    derived = ["is_susar", "susar_determined_at", "site_report_late", "review_due_on",
               "next_due_on", "day_zero"]
    AdverseEvent.objects.filter(pk=event.pk).update(**{f: getattr(event, f) for f in derived})
    return event


def people_of(*, trial) -> tuple[User | None, User | None]:
    """(owner, escalation) of a case's deadlines: the medical monitor, escalating to the CRM
    (the CRM owns them while the trial has no medical monitor)."""
    monitor, crm = trial_medical_monitor(trial_id=trial.pk), trial_crm(trial_id=trial.pk)
    if monitor is None:
        return crm, None
    return monitor, crm if crm != monitor else None


def _obligations_sync(event, history, applicable, people, now) -> None:
    held = {(o.rule, o.recipient, o.clock_start_at): o
            for o in event.obligations.select_for_update()}
    first_submitted = _first_submitted(held.values())
    owed = rules.obligations_owed(history, frameworks=applicable, first_submitted=first_submitted)
    for due in owed:
        obligation = held.get((due.rule, due.recipient, due.clock_start_at))
        if obligation is None or obligation.status == ObligationStatus.CANCELLED:
            _open(event, due, obligation, people)
        elif obligation.status == ObligationStatus.OPEN:
            _move_if_due_changed(event, due, obligation, people)
    latest = history[-1].facts
    for obligation in held.values():
        if obligation.status != ObligationStatus.OPEN:
            continue
        if obligation.framework in applicable:
            reason = rules.cancellation_reason(latest, framework=obligation.framework)
        else:
            reason = f"The trial is no longer under {obligation.framework.replace('_', ' ')}."
        if reason:
            _cancel(obligation, reason=reason, now=now)


def _first_submitted(obligations) -> dict[str, datetime]:
    first: dict[str, datetime] = {}
    for o in obligations:
        if o.status == ObligationStatus.SUBMITTED and o.report_type == rules.INITIAL:
            first[o.framework] = min(first.get(o.framework, o.submitted_at), o.submitted_at)
    return first


def _open(event, due: rules.Owed, obligation, people) -> None:
    zone = event.trial.safety_timezone
    obligation = obligation or ReportingObligation(
        adverse_event=event, trial=event.trial, rule=due.rule, recipient=due.recipient,
        clock_start_at=due.clock_start_at)
    obligation.framework, obligation.report_type = due.framework, due.report_type
    obligation.due_on = rules.due_on(due.clock_start_at, days=due.days, zone=zone)
    reopened = obligation.pk is not None
    obligation.status, obligation.cancelled_at, obligation.cancelled_reason = (
        ObligationStatus.OPEN, None, "")
    audited_save(obligation, by=None,
                 reason=f"Owed again under {due.rule}" if reopened else f"Owed under {due.rule}")
    _obligation_deadline(obligation, event, people)


def _move_if_due_changed(event, due: rules.Owed, obligation, people) -> None:
    """The trial's safety time zone changed: the same clock start falls on another Day 0."""
    due_on = rules.due_on(due.clock_start_at, days=due.days, zone=event.trial.safety_timezone)
    if due_on != obligation.due_on:
        obligation.due_on = due_on
        audited_save(obligation, by=None, update_fields=["due_on"],
                     reason="Due date moved: the trial's safety time zone changed")
        _obligation_deadline(obligation, event, people)


def _cancel(obligation: ReportingObligation, *, reason: str, now: datetime) -> None:
    obligation.status, obligation.cancelled_at = ObligationStatus.CANCELLED, now
    obligation.cancelled_reason = reason[:300]
    audited_save(obligation, by=None, reason=f"Cancelled: {reason}"[:300],
                 update_fields=["status", "cancelled_at", "cancelled_reason"])
    deadline_close(kind=DeadlineKind.REPORTING_OBLIGATION, subject=obligation,
                   state=Deadline.State.CANCELLED, now=now)


def due_moment(*, day, zone: str) -> datetime:
    """A report due on ``day`` is on time until the end of that day in the trial's zone."""
    return start_of_day(day + timedelta(days=1), Zone(zone))


def _obligation_deadline(obligation: ReportingObligation, event, people) -> None:
    owner, escalation = people
    if owner is None:
        return
    recipient = RECIPIENT_NAMES.get(obligation.recipient, obligation.recipient)
    deadline_upsert(
        kind=DeadlineKind.REPORTING_OBLIGATION, subject=obligation, owner=owner,
        due_at=due_moment(day=obligation.due_on, zone=event.trial.safety_timezone),
        title=f"{obligation.rule.replace('_', ' ')} report to {recipient}: AE {event.pk} "
              f"({event.trial.protocol_number})",
        trial=event.trial, escalation_user=escalation,
        url=reverse("safety:ae_detail", args=[event.pk]))


def _review_deadline_sync(event, history, people, now):
    """DOMAIN A3: a serious case owes a medical review by Day 0 + the trial's setting, Day 0
    being the receipt of the information that made it serious or, after a review, of the
    first information since."""
    if not rules.is_serious(history[-1].facts) or event.review_status != ReviewStatus.PENDING:
        state = (Deadline.State.DONE if event.review_status == ReviewStatus.REVIEWED
                 else Deadline.State.CANCELLED)
        deadline_close(kind=DeadlineKind.MEDICAL_REVIEW, subject=event, state=state, now=now)
        return None
    reviews = [i for i, info in enumerate(history) if info.kind == rules.REVIEW]
    since = history[reviews[-1] + 1].received_at if reviews else history[0].received_at
    clock = max(rules.became_at(history, rules.is_serious), since)
    zone = event.trial.safety_timezone
    due_on = rules.medical_review_due_on(clock_start_at=clock,
                                         days=event.trial.medical_review_days, zone=zone)
    owner, escalation = people
    if owner is not None:
        deadline_upsert(
            kind=DeadlineKind.MEDICAL_REVIEW, subject=event, owner=owner,
            due_at=due_moment(day=due_on, zone=zone),
            title=f"Medical review of serious AE {event.pk} ({event.trial.protocol_number})",
            trial=event.trial, escalation_user=escalation,
            url=reverse("safety:ae_detail", args=[event.pk]), now=now)
    return due_on


# ------------------------------------------------------------------------------ submission

@transaction.atomic
def obligation_submit(*, obligation: ReportingObligation, by: User, submitted_at: datetime,
                      reference: str) -> ReportingObligation:
    """Record that the report was sent: when, and the recipient's reference (e.g. the
    EudraVigilance acknowledgement or the FDA safety report number)."""
    obligation = ReportingObligation.objects.select_for_update().select_related("trial").get(
        pk=obligation.pk)
    if not may_review_safety(user=by, trial=obligation.trial_id):
        raise ApplicationError("Reports are submitted by the trial's medical monitor.",
                               status=403)
    if obligation.status != ObligationStatus.OPEN:
        raise ApplicationError(f"This obligation is {obligation.status}: nothing to submit.",
                               field="status")
    _check_submission(obligation, submitted_at, reference)
    obligation.status, obligation.submitted_at = ObligationStatus.SUBMITTED, submitted_at
    obligation.reference, obligation.submitted_by = reference.strip(), by
    obligation.on_time = rules.on_time(submitted_at, due_on=obligation.due_on,
                                       zone=obligation.trial.safety_timezone)
    audited_save(obligation, by=by,
                 reason=f"Submitted to {obligation.recipient}, reference {obligation.reference}")
    deadline_close(kind=DeadlineKind.REPORTING_OBLIGATION, subject=obligation)
    case_evaluate(event=obligation.adverse_event)
    return obligation


def _check_submission(obligation, submitted_at, reference) -> None:
    if not isinstance(submitted_at, datetime) or timezone.is_naive(submitted_at):
        raise ApplicationError("Give a date, a time and a time zone.", field="submitted_at")
    if submitted_at > timezone.now() + timedelta(minutes=5):
        raise ApplicationError("This time is in the future.", field="submitted_at")
    if submitted_at < obligation.clock_start_at:
        raise ApplicationError("A report cannot be sent before its clock started.",
                               field="submitted_at")
    if not isinstance(reference, str) or not reference.strip():
        raise ApplicationError("Give the recipient's reference for the report.",
                               field="reference")
    if len(reference.strip()) > 100:
        raise ApplicationError("At most 100 characters.", field="reference")
