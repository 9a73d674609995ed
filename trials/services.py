from django.db import transaction

from croportal.audit import audited_save
from croportal.exceptions import ApplicationError
from staffing.models import Organisation, Role, User
from staffing.services import assignment_start
from trials.models import Trial

TRIAL_EDITABLE_FIELDS = (
    "protocol_number", "title", "sponsor", "phase", "therapeutic_area", "indication", "status",
    "target_enrollment", "ind_number", "eu_ct_number", "nct_id", "investigational_product",
    "safety_timezone", "dibd",
)


def _check_sponsor(sponsor: Organisation) -> None:
    if sponsor.kind != Organisation.Kind.SPONSOR:
        raise ApplicationError("The sponsor must be a sponsor organisation.", field="sponsor")


@transaction.atomic
def trial_create(*, by: User, **fields) -> Trial:
    """Create a trial; its CRO creator becomes its CRM."""
    _check_sponsor(fields["sponsor"])
    trial = Trial(**{k: v for k, v in fields.items() if k in TRIAL_EDITABLE_FIELDS})
    audited_save(trial, by=by, reason="Trial created")
    if by.organisation is not None and by.organisation.kind == Organisation.Kind.CRO:
        assignment_start(user=by, trial=trial, role=Role.CRM, by=by)
    return trial


@transaction.atomic
def trial_update(*, trial: Trial, by: User, reason: str, **fields) -> Trial:
    """Edit a trial's fields, with the reason recorded in its audit trail."""
    if "sponsor" in fields and fields["sponsor"].pk != trial.sponsor_id:
        _check_sponsor(fields["sponsor"])
        if trial.assignments.filter(role=Role.SPONSOR_VIEWER).exists():
            raise ApplicationError(
                "The sponsor cannot change while sponsor viewers are assigned.", field="sponsor"
            )
    for name, value in fields.items():
        if name in TRIAL_EDITABLE_FIELDS:
            setattr(trial, name, value)
    audited_save(trial, by=by, reason=reason)
    return trial
