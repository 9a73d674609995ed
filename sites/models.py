import uuid

from django.conf import settings
from django.core.files.storage import storages
from django.db import models
from django.db.models import Q
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.models import HistoricalRecords

from access.codenames import SITE_EXTRA_PERMISSIONS
from croportal.db import TimeStampedModel


class SiteStatus(models.TextChoices):
    IDENTIFIED = "identified", "Identified"
    QUALIFIED = "qualified", "Qualified"
    SELECTED = "selected", "Selected"
    INITIATED = "initiated", "Initiated"
    ACTIVE = "active", "Active"
    ON_HOLD = "on_hold", "On hold"
    CLOSED = "closed", "Closed"


class Site(TimeStampedModel):
    trial = models.ForeignKey("trials.Trial", on_delete=models.PROTECT, related_name="sites")
    number = models.CharField(max_length=20)
    institution = models.CharField(max_length=300)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    city = models.CharField(max_length=120, blank=True)
    principal_investigator = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=20, choices=SiteStatus.choices, default="identified")
    target_enrollment = models.PositiveIntegerField(default=0)
    activated_on = models.DateField(null=True, blank=True)
    planned_activation_on = models.DateField(null=True, blank=True)
    contract_executed_on = models.DateField(null=True, blank=True)
    initiation_visit_on = models.DateField("initiation visit (SIV) done on", null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["trial_id", "number"]
        permissions = SITE_EXTRA_PERMISSIONS
        constraints = [
            models.UniqueConstraint(fields=["trial", "number"], name="site_number_unique_in_trial"),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in SiteStatus]), name="site_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(country__regex=r"^[A-Z]{2}$"), name="site_country_iso2"
            ),
        ]

    def __str__(self) -> str:
        return f"Site {self.number} — {self.institution}"


class SiteEnrollment(models.Model):
    """A site's subjects counted by status, kept by the subject services in the transaction
    that changes a subject (under the site's lock), so that portfolios, trial pages and site
    lists read one row per site instead of counting every subject on each page."""

    site = models.OneToOneField(Site, on_delete=models.CASCADE, primary_key=True,
                                related_name="enrollment")
    screened_count = models.PositiveIntegerField(default=0)
    screen_failed_count = models.PositiveIntegerField(default=0)
    enrolled_total = models.PositiveIntegerField(
        default=0, help_text="Enrolled, completed or withdrawn: every subject ever enrolled.")
    screening_count = models.PositiveIntegerField(default=0)
    withdrawn_count = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"Enrollment of site {self.site_id}"


# One statement counts every site's subjects (the migration, the CRO seed, a repair).
SITE_ENROLLMENT_REBUILD = """
INSERT INTO sites_siteenrollment (site_id, screened_count, screen_failed_count, enrolled_total,
                                  screening_count, withdrawn_count)
SELECT site.id, count(subject.id),
       count(subject.id) FILTER (WHERE subject.status = 'screen_failed'),
       count(subject.id) FILTER (WHERE subject.status IN ('enrolled', 'completed', 'withdrawn')),
       count(subject.id) FILTER (WHERE subject.status = 'screening'),
       count(subject.id) FILTER (WHERE subject.status = 'withdrawn')
FROM sites_site AS site LEFT JOIN sites_subject AS subject ON subject.site_id = site.id
GROUP BY site.id
ON CONFLICT (site_id) DO UPDATE SET
    screened_count = EXCLUDED.screened_count,
    screen_failed_count = EXCLUDED.screen_failed_count,
    enrolled_total = EXCLUDED.enrolled_total,
    screening_count = EXCLUDED.screening_count,
    withdrawn_count = EXCLUDED.withdrawn_count
"""


class SiteUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Site, on_delete=models.CASCADE)


class SiteGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Site, on_delete=models.CASCADE)


class DocumentKind(models.TextChoices):
    """Essential documents of a site (ICH E6(R2) §8.2 and US forms; DOMAIN B §7)."""

    INVESTIGATOR_BROCHURE = "investigator_brochure", "Investigator's brochure"
    SIGNED_PROTOCOL = "signed_protocol", "Signed protocol and amendments"
    ETHICS_APPROVAL = "ethics_approval", "IRB/IEC approval"
    REGULATORY_APPROVAL = "regulatory_approval", "Regulatory authority approval"
    INFORMED_CONSENT_FORM = "informed_consent_form", "Approved informed consent form"
    INVESTIGATOR_CV = "investigator_cv", "Investigator CV"
    MEDICAL_LICENCE = "medical_licence", "Medical licence"
    LAB_CERTIFICATION = "lab_certification", "Laboratory certification"
    LAB_NORMAL_RANGES = "lab_normal_ranges", "Laboratory normal ranges"
    FORM_FDA_1572 = "form_fda_1572", "Form FDA 1572"
    FINANCIAL_DISCLOSURE = "financial_disclosure", "Financial disclosure"
    CLINICAL_TRIAL_AGREEMENT = "clinical_trial_agreement", "Clinical trial agreement"
    INSURANCE = "insurance", "Insurance statement"
    DELEGATION_LOG = "delegation_log", "Delegation log"
    SHIPPING_TRAINING = "shipping_training", "Dangerous-goods shipping training"
    OTHER = "other", "Other"


class DocumentStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    RECEIVED = "received", "Received"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    SUPERSEDED = "superseded", "Superseded"


def document_storage():
    return storages["documents"]


def document_path(document: "EssentialDocument", filename: str) -> str:
    """`site-<id>/<uuid>/<name>`: unguessable, and never the path of another version."""
    return f"site-{document.site_id}/{uuid.uuid4().hex}/{filename}"


class EssentialDocument(TimeStampedModel):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(max_length=32, choices=DocumentKind.choices)
    title = models.CharField(max_length=200, blank=True)
    version = models.CharField(max_length=30, blank=True)
    effective_on = models.DateField(null=True, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=12, choices=DocumentStatus.choices, default=DocumentStatus.RECEIVED
    )
    # Four eyes: who filed it, and who approved or rejected it (the trial's CRM, never the
    # filer) and when (ICH E6(R3) 3.16: essential records are reviewed).
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="+", editable=False)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+", editable=False)
    reviewed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The document itself: kept in the documents storage under a path of its own (a new
    # version is a new document with its own file; no file is ever replaced or deleted).
    file = models.FileField(storage=document_storage, upload_to=document_path, max_length=300,
                            blank=True, editable=False)
    file_name = models.CharField("file name", max_length=255, blank=True, editable=False)
    file_size = models.PositiveBigIntegerField("file size (bytes)", null=True, blank=True,
                                               editable=False)
    file_type = models.CharField("file type", max_length=100, blank=True, editable=False)
    file_sha256 = models.CharField("SHA-256", max_length=64, blank=True, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["site_id", "kind", "-effective_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in DocumentKind]), name="document_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in DocumentStatus]),
                name="document_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(effective_on__isnull=True)
                | Q(expires_on__gt=models.F("effective_on")),
                name="document_expires_after_effective",
            ),
        ]
        indexes = [models.Index(fields=["site", "kind", "status"])]

    def __str__(self) -> str:
        version = f" v{self.version}" if self.version else ""
        return f"{self.get_kind_display()}{version}"

    def is_current(self, today) -> bool:
        return (
            self.status == DocumentStatus.APPROVED
            and (self.effective_on is None or self.effective_on <= today)
            and (self.expires_on is None or self.expires_on > today)
        )


class SiteConsentVersion(TimeStampedModel):
    """An ICF version's ethics approval and effective date at one site. When it becomes
    effective, the site's active subjects on an older version are due for re-consent."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="consent_versions")
    consent_version = models.ForeignKey(
        "trials.ConsentVersion", on_delete=models.PROTECT, related_name="site_approvals"
    )
    ethics_approved_on = models.DateField()
    effective_on = models.DateField()
    reconsent_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["site_id", "effective_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "consent_version"], name="site_consent_version_unique"
            ),
            models.CheckConstraint(
                condition=Q(effective_on__gte=models.F("ethics_approved_on")),
                name="consent_effective_after_approval",
            ),
        ]
        indexes = [
            # The hourly sweep for versions that became effective (re-consent deadlines).
            models.Index(
                fields=["effective_on"], condition=Q(reconsent_started_at__isnull=True),
                name="site_consent_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.consent_version} at site {self.site_id}"


class SubjectStatus(models.TextChoices):
    SCREENING = "screening", "Screening"
    SCREEN_FAILED = "screen_failed", "Screen failed"
    ENROLLED = "enrolled", "Enrolled"
    COMPLETED = "completed", "Completed"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Subject(TimeStampedModel):
    """A trial participant, known only by a pseudonymous number: no names, no birth dates."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="subjects")
    trial = models.ForeignKey("trials.Trial", on_delete=models.PROTECT, related_name="subjects")
    number = models.CharField(max_length=30)
    status = models.CharField(max_length=20, choices=SubjectStatus.choices, default="screening")
    screened_on = models.DateField(null=True, blank=True)
    consented_on = models.DateField(null=True, blank=True)
    consent_version = models.CharField(max_length=30, blank=True)
    enrolled_on = models.DateField(null=True, blank=True)
    completed_on = models.DateField(null=True, blank=True)
    withdrawn_on = models.DateField(null=True, blank=True)
    withdrawal_reason = models.TextField(blank=True)
    screen_failed_on = models.DateField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["trial_id", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["trial", "number"], name="subject_number_unique_in_trial"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in SubjectStatus]),
                name="subject_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["site", "status"]),
            models.Index(fields=["trial", "enrolled_on"]),
        ]

    def __str__(self) -> str:
        return f"Subject {self.number}"


class ConsentRecord(TimeStampedModel):
    """A subject's signature of one ICF version (first consent or re-consent)."""

    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="consents")
    consent_version = models.ForeignKey(
        "trials.ConsentVersion", on_delete=models.PROTECT, related_name="+"
    )
    consented_on = models.DateField()
    obtained_by = models.CharField(
        max_length=200, blank=True, help_text="Site staff who obtained consent (name or role)"
    )
    is_reconsent = models.BooleanField(default=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["subject_id", "consented_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "consent_version"], name="consent_once_per_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} consented to {self.consent_version} on {self.consented_on}"
