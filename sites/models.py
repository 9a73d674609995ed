from django.db import models
from django.db.models import Q
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.models import HistoricalRecords

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
    history = HistoricalRecords()

    class Meta:
        ordering = ["trial_id", "number"]
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


class SiteUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Site, on_delete=models.CASCADE)


class SiteGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Site, on_delete=models.CASCADE)


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
        indexes = [models.Index(fields=["site", "status"])]

    def __str__(self) -> str:
        return f"Subject {self.number}"
