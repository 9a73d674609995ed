"""The staffing app's writes: assignments and permissions, e-signatures, training records,
a person's own profile."""

from staffing.services.assignments import (
    assignment_end,
    assignment_start,
    assignments_apply_dates,
    permissions_sync,
)
from staffing.services.profile import (
    PROFILE_FIELDS,
    time_zone_names,
    user_profile_update,
)
from staffing.services.signing import (
    P,
    R,
    SignaturePasswordRefused,
    SigningLocked,
    signature_apply,
    signature_failure_record,
    signatures_invalidate_if_changed,
    signing_action,
    signing_lock_of,
    signing_lock_release,
)
from staffing.services.training import (
    EARLIEST_TRAINING,
    LONGEST_VALIDITY_YEARS,
    TRAINING_EDITABLE_FIELDS,
    training_default_expiry,
    training_escalations_refresh,
    training_record_check,
    training_record_create,
    training_record_update,
)

__all__ = [
    "EARLIEST_TRAINING",
    "LONGEST_VALIDITY_YEARS",
    "PROFILE_FIELDS",
    "TRAINING_EDITABLE_FIELDS",
    "P",
    "R",
    "SignaturePasswordRefused",
    "SigningLocked",
    "assignment_end",
    "assignment_start",
    "assignments_apply_dates",
    "permissions_sync",
    "signature_apply",
    "signature_failure_record",
    "signatures_invalidate_if_changed",
    "signing_action",
    "signing_lock_of",
    "signing_lock_release",
    "time_zone_names",
    "training_default_expiry",
    "training_escalations_refresh",
    "training_record_check",
    "training_record_create",
    "training_record_update",
    "user_profile_update",
]
