from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.models import HistoricalRecords

from access.codenames import TRIAL_EXTRA_PERMISSIONS
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
    # DOMAIN A3 (industry practice, so a per-trial setting): the medical monitor's review of a
    # serious adverse event is due this many calendar days after Day 0.
    medical_review_days = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(0), MaxValueValidator(30)],
        help_text="Calendar days from Day 0 to the medical review of a serious adverse event.")
    status_before_hold = models.CharField(max_length=20, blank=True, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["protocol_number"]
        permissions = TRIAL_EXTRA_PERMISSIONS
        constraints = [
            models.CheckConstraint(
                condition=Q(phase__in=[p.value for p in Phase]), name="trial_phase_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in TrialStatus]), name="trial_status_valid"
            ),
            # One trial per registry record: a second import of the same NCT ID cannot duplicate.
            models.UniqueConstraint(
                fields=["nct_id"], condition=~Q(nct_id=""), name="trial_nct_id_unique"
            ),
            # ClinicalTrials.gov identifiers: NCT and eight digits.
            models.CheckConstraint(
                condition=Q(nct_id="") | Q(nct_id__regex=r"^NCT[0-9]{8}$"),
                name="trial_nct_id_format",
                violation_error_message="An NCT ID is NCT followed by 8 digits, e.g. "
                                        "NCT01234567."),
        ]

    def __str__(self) -> str:
        return f"{self.protocol_number} — {self.title[:60]}"


class TrialForecast(models.Model):
    """A trial's enrollment forecast as last computed, with the fingerprint of what it was
    computed from (target, enrollment, plan, each site's status, dates and enrollment, the
    day): pages reuse it until one of those changes (trials.forecast_cache)."""

    trial = models.OneToOneField(Trial, on_delete=models.CASCADE, primary_key=True,
                                 related_name="+")
    inputs = models.CharField(max_length=64)
    result = models.JSONField(null=True, blank=True)  # the Forecast's fields; null: none
    note = models.CharField(max_length=300, blank=True)
    computed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Forecast of trial {self.trial_id}"


class TrialUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Trial, on_delete=models.CASCADE)


class TrialGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Trial, on_delete=models.CASCADE)


class MilestoneKind(models.TextChoices):
    PROTOCOL_FINAL = "protocol_final", "Protocol final"
    FIRST_SITE_ACTIVATED = "first_site_activated", "First site activated"
    FPI = "fpi", "First patient in"
    LPI = "lpi", "Last patient in"
    LPO = "lpo", "Last patient out"
    DATABASE_LOCK = "database_lock", "Database lock"
    CSR_FINAL = "csr_final", "Clinical study report final"
    OTHER = "other", "Other"


class Milestone(TimeStampedModel):
    """A dated step of a trial: the baseline is the plan as first agreed, the planned date the
    current plan, the actual date what happened; slippage is measured against the baseline."""

    trial = models.ForeignKey(Trial, on_delete=models.PROTECT, related_name="milestones")
    kind = models.CharField(max_length=24, choices=MilestoneKind.choices)
    name = models.CharField(max_length=120, blank=True)
    baseline_date = models.DateField(null=True, blank=True)
    planned_date = models.DateField(null=True, blank=True)
    actual_date = models.DateField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["trial_id", "planned_date", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in MilestoneKind]), name="milestone_kind_valid"
            ),
            models.UniqueConstraint(
                fields=["trial", "kind"], condition=~Q(kind="other"),
                name="milestone_kind_unique_in_trial",
            ),
            models.CheckConstraint(
                condition=~Q(kind="other") | ~Q(name=""), name="milestone_other_has_name"
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return self.name or self.get_kind_display()

    @property
    def slippage_days(self) -> int | None:
        """Days late (+) or early (-) against the baseline: actual date when reached, else the
        current planned date; None without a baseline."""
        current = self.actual_date or self.planned_date
        if self.baseline_date is None or current is None:
            return None
        return (current - self.baseline_date).days


class ProtocolAmendment(TimeStampedModel):
    trial = models.ForeignKey(Trial, on_delete=models.PROTECT, related_name="amendments")
    version = models.CharField(max_length=30)
    approved_on = models.DateField(null=True, blank=True)
    summary = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["trial_id", "approved_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["trial", "version"], name="amendment_version_unique_in_trial"
            ),
        ]

    def __str__(self) -> str:
        return f"Amendment {self.version}"


class ConsentVersion(TimeStampedModel):
    """An informed consent form (ICF) version of a trial; its ethics approval and effective
    date are per site (sites.SiteConsentVersion)."""

    trial = models.ForeignKey(Trial, on_delete=models.PROTECT, related_name="consent_versions")
    version = models.CharField(max_length=30)
    summary = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["trial_id", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["trial", "version"], name="consent_version_unique_in_trial"
            ),
        ]

    def __str__(self) -> str:
        return f"ICF {self.version}"


class CtgovImport(TimeStampedModel):
    """One upload of a ClinicalTrials.gov record: previewed, then imported (in Celery)."""

    class State(models.TextChoices):
        PREVIEW = "preview", "Preview"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    created_by = models.ForeignKey(
        "staffing.User", on_delete=models.PROTECT, related_name="ctgov_imports"
    )
    filename = models.CharField(max_length=255, blank=True)
    nct_id = models.CharField(max_length=11)
    record = models.JSONField()
    sponsor = models.ForeignKey(
        "staffing.Organisation", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.PREVIEW)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    trial = models.ForeignKey(
        Trial, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # An outbox, like the reminders: the confirm records the job and only then tries the
    # broker; a job whose message never arrived (Redis down) is published again by beat.
    dispatched_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)  # a worker took it

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["state", "dispatched_at"], name="ctgov_import_pending",
                         condition=Q(state__in=["queued", "running"])),
        ]

    def __str__(self) -> str:
        return f"Import of {self.nct_id} ({self.state})"
