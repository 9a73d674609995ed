"""The sites app's API (API.md: Sites, Subjects, Documents)."""

from sites.api.consent_versions import (
    SiteConsentVersionFilter,
    SiteConsentVersionSerializer,
    SiteConsentVersionViewSet,
)
from sites.api.documents import (
    EssentialDocumentFilter,
    EssentialDocumentSerializer,
    EssentialDocumentViewSet,
)
from sites.api.sites import (
    SITE_FIELDS,
    ChecklistItemSerializer,
    ChecklistSerializer,
    SiteFilter,
    SiteSerializer,
    SiteTransitionSerializer,
    SiteViewSet,
)
from sites.api.subjects import (
    ConsentRecordFilter,
    ConsentRecordViewSet,
    ConsentSerializer,
    SubjectFilter,
    SubjectScreenSerializer,
    SubjectSerializer,
    SubjectTransitionSerializer,
    SubjectViewSet,
)

__all__ = [
    "SITE_FIELDS",
    "ChecklistItemSerializer",
    "ChecklistSerializer",
    "ConsentRecordFilter",
    "ConsentRecordViewSet",
    "ConsentSerializer",
    "EssentialDocumentFilter",
    "EssentialDocumentSerializer",
    "EssentialDocumentViewSet",
    "SiteConsentVersionFilter",
    "SiteConsentVersionSerializer",
    "SiteConsentVersionViewSet",
    "SiteFilter",
    "SiteSerializer",
    "SiteTransitionSerializer",
    "SiteViewSet",
    "SubjectFilter",
    "SubjectScreenSerializer",
    "SubjectSerializer",
    "SubjectTransitionSerializer",
    "SubjectViewSet",
]
