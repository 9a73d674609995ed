import re
from datetime import date, datetime

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from croportal.audit import audited_save
from croportal.concurrency import apply_fields, lock_for_update
from croportal.exceptions import ApplicationError
from croportal.lifecycle import check_transition
from croportal.timezones import start_of_day
from reminders.models import Deadline
from reminders.policies import Kind as DeadlineKind
from reminders.services import deadline_close, deadline_upsert
from staffing.models import Organisation, Role, User
from staffing.selectors import trial_crm
from staffing.services import assignment_start
from trials.models import (
    ConsentVersion,
    Milestone,
    MilestoneKind,
    ProtocolAmendment,
    Trial,
    TrialStatus,
)

# Status moves only through trial_transition (DOMAIN B §8): never an editable field.
TRIAL_EDITABLE_FIELDS = (
    "protocol_number", "title", "sponsor", "phase", "therapeutic_area", "indication",
    "target_enrollment", "ind_number", "eu_ct_number", "nct_id", "investigational_product",
    "safety_timezone", "dibd", "medical_review_days",
)


def _check_sponsor(sponsor: Organisation) -> None:
    if sponsor.kind != Organisation.Kind.SPONSOR:
        raise ApplicationError("The sponsor must be a sponsor organisation.", field="sponsor")


NCT_FORMAT = re.compile(r"NCT[0-9]{8}")


NCT_MESSAGE = "An NCT ID is NCT followed by 8 digits, e.g. NCT01234567."


def nct_id_checked(*, value) -> str:
    """An NCT ID is NCT and eight digits (ClinicalTrials.gov); written upper-case, trimmed."""
    value = str(value or "").strip().upper()
    if value and not NCT_FORMAT.fullmatch(value):
        raise ApplicationError(NCT_MESSAGE, field="nct_id")
    return value


def _normalise_nct(fields: dict) -> None:
    if "nct_id" in fields:
        fields["nct_id"] = nct_id_checked(value=fields["nct_id"])


def _check_unique(fields: dict, trial: Trial | None = None) -> None:
    """A clear 400 on the field rather than the database's refusal."""
    others = Trial.objects.exclude(pk=trial.pk) if trial else Trial.objects.all()
    if "protocol_number" in fields and others.filter(
            protocol_number=fields["protocol_number"]).exists():
        raise ApplicationError("A trial with this protocol number exists.",
                               field="protocol_number")
    if fields.get("nct_id") and others.filter(nct_id=fields["nct_id"]).exists():
        raise ApplicationError("A trial with this NCT ID exists.", field="nct_id")


@transaction.atomic
def trial_create(*, by: User, status: str = TrialStatus.PLANNING, **fields) -> Trial:
    """Create a trial; its CRO creator becomes its CRM. It starts in planning, unless a
    registry record (import, demo data) says where it already is; pages and API never pass it."""
    if status not in TrialStatus.values:
        raise ApplicationError(f"Unknown status “{status}”.", field="status")
    _check_sponsor(fields["sponsor"])
    _normalise_nct(fields)
    _check_unique(fields)
    trial = Trial(status=status)
    apply_fields(trial, fields, editable=TRIAL_EDITABLE_FIELDS)
    audited_save(trial, by=by, reason="Trial created")
    if by.organisation is not None and by.organisation.kind == Organisation.Kind.CRO:
        assignment_start(user=by, trial=trial, role=Role.CRM, by=by)
    return trial


@transaction.atomic
def trial_update(*, trial: Trial, by: User, reason: str, expected_revision: int | None = None,
                 **fields) -> Trial:
    """Edit a trial's fields (not its status), locking the row and writing only what changed,
    with the reason recorded in its audit trail; a stale `expected_revision` is refused."""
    trial = lock_for_update(trial, expected_revision=expected_revision)
    if "status" in fields and fields["status"] != trial.status:
        raise ApplicationError("A trial's status changes only through a lifecycle step.",
                               field="status")
    fields.pop("status", None)
    if "sponsor" in fields and fields["sponsor"].pk != trial.sponsor_id:
        _check_sponsor(fields["sponsor"])
        if trial.assignments.filter(role=Role.SPONSOR_VIEWER).exists():
            raise ApplicationError(
                "The sponsor cannot change while sponsor viewers are assigned.", field="sponsor"
            )
    _normalise_nct(fields)
    _check_unique(fields, trial)
    changed = apply_fields(trial, fields, editable=TRIAL_EDITABLE_FIELDS)
    if changed:
        audited_save(trial, by=by, reason=reason, update_fields=changed)
    return trial


# --- Lifecycle (DOMAIN B §8): the statuses a trial may move to from each status ------------

TRIAL_TRANSITIONS: dict[str, frozenset[str]] = {
    TrialStatus.PLANNING: frozenset({TrialStatus.STARTUP, TrialStatus.TERMINATED}),
    TrialStatus.STARTUP: frozenset(
        {TrialStatus.ENROLLING, TrialStatus.ON_HOLD, TrialStatus.TERMINATED}
    ),
    TrialStatus.ENROLLING: frozenset(
        {TrialStatus.ENROLLMENT_CLOSED, TrialStatus.ON_HOLD, TrialStatus.TERMINATED}
    ),
    TrialStatus.ENROLLMENT_CLOSED: frozenset(
        {TrialStatus.ENROLLING, TrialStatus.FOLLOW_UP, TrialStatus.COMPLETED,
         TrialStatus.ON_HOLD, TrialStatus.TERMINATED}
    ),
    TrialStatus.FOLLOW_UP: frozenset(
        {TrialStatus.COMPLETED, TrialStatus.ON_HOLD, TrialStatus.TERMINATED}
    ),
    # From on hold only back to the status held before, or terminated (see trial_transitions_from).
    TrialStatus.ON_HOLD: frozenset({TrialStatus.TERMINATED}),
    TrialStatus.COMPLETED: frozenset(),
    TrialStatus.TERMINATED: frozenset(),
}


def trial_transitions_from(*, trial: Trial) -> list[str]:
    allowed = set(TRIAL_TRANSITIONS[trial.status])
    if trial.status == TrialStatus.ON_HOLD and trial.status_before_hold:
        allowed.add(trial.status_before_hold)
    return [s for s in TrialStatus.values if s in allowed]


def _check_trial_transition(trial: Trial, to: str) -> None:
    check_transition(what="trial", statuses=TrialStatus, current=trial.status, to=to,
                     allowed=trial_transitions_from(trial=trial))


def _apply_status(trial: Trial, to: str) -> None:
    if to == TrialStatus.ON_HOLD:
        trial.status_before_hold = trial.status
    elif trial.status == TrialStatus.ON_HOLD:
        trial.status_before_hold = ""
    trial.status = to


@transaction.atomic
def trial_transition(*, trial: Trial, to: str, by: User, reason: str,
                     expected_revision: int | None = None) -> Trial:
    """Move a trial along its lifecycle (audited, with the reason)."""
    trial = lock_for_update(trial, expected_revision=expected_revision)
    _check_trial_transition(trial, to)
    _apply_status(trial, to)
    audited_save(trial, by=by, reason=reason, update_fields=["status", "status_before_hold"])
    return trial


# --- People the portal's deadlines go to ---------------------------------------------------

def _midnight(day: date, user: User) -> datetime:
    return start_of_day(day, user)


# --- Milestones ------------------------------------------------------------------------------

MILESTONE_FIELDS = ("kind", "name", "baseline_date", "planned_date", "actual_date")


def _check_milestone(milestone: Milestone) -> None:
    if milestone.kind not in MilestoneKind.values:
        raise ApplicationError("Unknown milestone kind.", field="kind")
    if milestone.kind == MilestoneKind.OTHER and not milestone.name.strip():
        raise ApplicationError("Name the milestone (kind “other”).", field="name")
    twin = Milestone.objects.filter(trial_id=milestone.trial_id, kind=milestone.kind)
    if milestone.kind != MilestoneKind.OTHER and twin.exclude(pk=milestone.pk).exists():
        raise ApplicationError("This trial already has that milestone.", field="kind")
    if milestone.baseline_date is None and milestone.planned_date is not None:
        milestone.baseline_date = milestone.planned_date  # the first plan is the baseline
    today = timezone.localdate()
    if milestone.actual_date is not None and milestone.actual_date > today:
        raise ApplicationError("An actual date cannot be in the future.", field="actual_date")


def _milestone_deadline_sync(milestone: Milestone) -> None:
    """A planned milestone not yet reached is a deadline of the trial's CRM."""
    crm = trial_crm(trial_id=milestone.trial_id)
    if milestone.actual_date is not None:
        deadline_close(kind=DeadlineKind.MILESTONE, subject=milestone)
    elif milestone.planned_date is None or crm is None:
        deadline_close(kind=DeadlineKind.MILESTONE, subject=milestone,
                       state=Deadline.State.CANCELLED)
    else:
        deadline_upsert(
            kind=DeadlineKind.MILESTONE, subject=milestone, owner=crm,
            due_at=_midnight(milestone.planned_date, crm), due_on=milestone.planned_date,
            title=f"{milestone.label} planned ({milestone.trial.protocol_number})",
            trial=milestone.trial, url=reverse("trials:detail", args=[milestone.trial_id]),
        )


@transaction.atomic
def milestone_create(*, trial: Trial, by: User, reason: str = "Milestone added",
                     **fields) -> Milestone:
    milestone = Milestone(trial=trial)
    apply_fields(milestone, fields, editable=MILESTONE_FIELDS)
    milestone.name = milestone.name or ""
    _check_milestone(milestone)
    audited_save(milestone, by=by, reason=reason)
    _milestone_deadline_sync(milestone)
    return milestone


@transaction.atomic
def milestone_update(*, milestone: Milestone, by: User, reason: str,
                     expected_revision: int | None = None, **fields) -> Milestone:
    """Re-plan or record a milestone; the baseline stays as first agreed unless re-baselined."""
    milestone = lock_for_update(milestone, expected_revision=expected_revision)
    if "name" in fields:
        fields["name"] = fields["name"] or ""
    changed = apply_fields(milestone, fields, editable=MILESTONE_FIELDS)
    baseline = milestone.baseline_date
    _check_milestone(milestone)
    if milestone.baseline_date != baseline:
        changed.append("baseline_date")
    if not changed:
        return milestone
    audited_save(milestone, by=by, reason=reason, update_fields=changed)
    _milestone_deadline_sync(milestone)
    return milestone


# --- Protocol amendments and consent versions ----------------------------------------------

@transaction.atomic
def amendment_create(*, trial: Trial, by: User, version: str, approved_on: date | None = None,
                     summary: str = "") -> ProtocolAmendment:
    version = (version or "").strip()
    if not version:
        raise ApplicationError("Give the amendment's version.", field="version")
    if ProtocolAmendment.objects.filter(trial=trial, version=version).exists():
        raise ApplicationError("This trial already has an amendment with that version.",
                               field="version")
    amendment = ProtocolAmendment(trial=trial, version=version, approved_on=approved_on,
                                  summary=summary or "")
    audited_save(amendment, by=by, reason="Protocol amendment recorded")
    return amendment


@transaction.atomic
def consent_version_create(*, trial: Trial, by: User, version: str,
                           summary: str = "") -> ConsentVersion:
    version = (version or "").strip()
    if not version:
        raise ApplicationError("Give the ICF version.", field="version")
    if ConsentVersion.objects.filter(trial=trial, version=version).exists():
        raise ApplicationError("This trial already has that ICF version.", field="version")
    consent_version = ConsentVersion(trial=trial, version=version, summary=summary or "")
    audited_save(consent_version, by=by, reason="ICF version recorded")
    return consent_version
