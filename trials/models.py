from django.db import models
from django.db.models import Q
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.models import HistoricalRecords

from croportal.db import TimeStampedModel


class Phase(models.TextChoices):
    I = "I", "Phase I"  # noqa: E741
    I_II = "I/II", "Phase I/II"
    II = "II", "Phase II"
    II_III = "II/III", "Phase II/III"
    III = "III", "Phase III"
    IV = "IV", "Phase IV"


class TrialStatus(models.TextChoices):
    PLANNING = "planning", "Planning"
    STARTUP = "startup", "Start-up"
    ENROLLING = "enrolling", "Enrolling"
    ENROLLMENT_CLOSED = "enrollment_closed", "Enrollment closed"
    FOLLOW_UP = "follow_up", "Follow-up"
    COMPLETED = "completed", "Completed"
    TERMINATED = "terminated", "Terminated"
    ON_HOLD = "on_hold", "On hold"


class Trial(TimeStampedModel):
    protocol_number = models.CharField(max_length=50, unique=True)
    title = models.CharField(max_length=500)
    sponsor = models.ForeignKey(
        "staffing.Organisation", on_delete=models.PROTECT, related_name="sponsored_trials"
    )
    phase = models.CharField(max_length=8, choices=Phase.choices)
    therapeutic_area = models.CharField(max_length=120, blank=True)
    indication = models.CharField(max_length=300, blank=True)
    status = models.CharField(
        max_length=20, choices=TrialStatus.choices, default=TrialStatus.PLANNING
    )
    target_enrollment = models.PositiveIntegerField(default=0)
    ind_number = models.CharField("IND number", max_length=20, blank=True)
    eu_ct_number = models.CharField("EU CT number", max_length=30, blank=True)
    nct_id = models.CharField("NCT ID", max_length=11, blank=True)
    investigational_product = models.CharField(max_length=200, blank=True)
    safety_timezone = models.CharField(max_length=64, default="UTC")
    dibd = models.DateField("development international birth date", null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["protocol_number"]
        permissions = [
            ("view_all_sites", "Can view every site of the trial"),
            ("change_all_sites", "Can change every site of the trial"),
            ("manage_staff", "Can assign and end staff on the trial"),
            ("review_safety", "Can medically review the trial's adverse events"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(phase__in=[p.value for p in Phase]), name="trial_phase_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in TrialStatus]), name="trial_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.protocol_number} — {self.title[:60]}"

    def signature_content(self) -> dict:
        return {f.attname: getattr(self, f.attname) for f in self._meta.fields
                if f.name not in {"created_at", "updated_at"}}


class TrialUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Trial, on_delete=models.CASCADE)


class TrialGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Trial, on_delete=models.CASCADE)
