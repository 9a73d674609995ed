"""The sites app's writes, by behaviour: sites, lifecycle, documents, consent, subjects."""

from sites.services.consent import (
    ACTIVE_SUBJECT_STATUSES,
    consent_record,
    consent_versions_apply,
    site_consent_version_add,
)
from sites.services.documents import (
    DOCUMENT_FIELDS,
    REVIEW_DECISIONS,
    document_create,
    document_update,
)
from sites.services.lifecycle import (
    REQUIRED_DOCUMENTS,
    REQUIRED_FOR_IND,
    SITE_TRANSITIONS,
    Checklist,
    ChecklistItem,
    required_document_kinds,
    site_checklist,
    site_transition,
    site_transitions_from,
)
from sites.services.sites import (
    SITE_EDITABLE_FIELDS,
    SITE_LIFECYCLE_FIELDS,
    country_code,
    site_create,
    site_update,
)
from sites.services.subjects import (
    SUBJECT_TRANSITIONS,
    subject_create,
    subject_screen,
    subject_transition,
    subject_transitions_from,
)

__all__ = [
    "ACTIVE_SUBJECT_STATUSES",
    "DOCUMENT_FIELDS",
    "REQUIRED_DOCUMENTS",
    "REQUIRED_FOR_IND",
    "REVIEW_DECISIONS",
    "SITE_EDITABLE_FIELDS",
    "SITE_LIFECYCLE_FIELDS",
    "SITE_TRANSITIONS",
    "SUBJECT_TRANSITIONS",
    "Checklist",
    "ChecklistItem",
    "consent_record",
    "consent_versions_apply",
    "country_code",
    "document_create",
    "document_update",
    "required_document_kinds",
    "site_checklist",
    "site_consent_version_add",
    "site_create",
    "site_transition",
    "site_transitions_from",
    "site_update",
    "subject_create",
    "subject_screen",
    "subject_transition",
    "subject_transitions_from",
]
