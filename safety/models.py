from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from croportal.db import TimeStampedModel
from safety import rules

# A serious case (ICH E2A: any criterion ticked) awaiting its medical review: the queue.
AWAITING_REVIEW = Q(review_status="pending") & ~Q(seriousness_criteria=[])
SERIOUS_CASE = ~Q(seriousness_criteria=[])

SERIOUSNESS_CRITERIA = (
    "death",
    "life_threatening",
    "hospitalization",
    "disability",
    "congenital_anomaly",
    "important_medical_event",
)


class CtcaeTerm(models.Model):
    """A CTCAE v5.0 term (NCI, public domain) with its MedDRA LLT code and the grades that
    exist for it; grade definitions only where an operator loaded NCI's full file."""

    meddra_code = models.CharField(max_length=8, unique=True)
    term = models.CharField(max_length=200)
    soc = models.CharField("MedDRA SOC", max_length=200)
    grades = models.CharField(max_length=5, help_text="Grades that exist, e.g. '1235'")
    grade_definitions = models.JSONField(default=dict, blank=True)
    definition = models.TextField(blank=True)
    version = models.CharField(max_length=10, default="5.0")

    class Meta:
        ordering = ["term"]
        indexes = [models.Index(fields=["term"]), models.Index(fields=["soc"])]

    def __str__(self) -> str:
        return f"{self.term} ({self.meddra_code})"

    def has_grade(self, grade: int) -> bool:
        return str(grade) in self.grades


class Outcome(models.TextChoices):
    RECOVERED = "recovered", "Recovered"
    RECOVERING = "recovering", "Recovering"
    NOT_RECOVERED = "not_recovered", "Not recovered"
    RECOVERED_WITH_SEQUELAE = "recovered_with_sequelae", "Recovered with sequelae"
    FATAL = "fatal", "Fatal"
    UNKNOWN = "unknown", "Unknown"


class Causality(models.TextChoices):
    RELATED = "related", "Related"
    NOT_RELATED = "not_related", "Not related"


class Expectedness(models.TextChoices):
    EXPECTED = "expected", "Expected"
    UNEXPECTED = "unexpected", "Unexpected"


class ReviewStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    REVIEWED = "reviewed", "Reviewed"


class AdverseEvent(TimeStampedModel):
    """A case: the event as it stands after every piece of information received (each kept as a
    version, the case's timeline). The clocks' results are stored, never inferred at read time
    (DOMAIN A2): is_susar, susar_determined_at, site_report_late, and the obligations."""

    subject = models.ForeignKey(
        "sites.Subject", on_delete=models.PROTECT, related_name="adverse_events"
    )
    # The subject's trial and site, copied at entry so lists filter and sort on indexes.
    trial = models.ForeignKey("trials.Trial", on_delete=models.PROTECT,
                              related_name="adverse_events", editable=False)
    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT,
                             related_name="adverse_events", editable=False)
    verbatim_term = models.CharField(max_length=300)
    term = models.ForeignKey(CtcaeTerm, null=True, blank=True, on_delete=models.PROTECT)
    onset_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    severity_grade = models.PositiveSmallIntegerField()
    seriousness_criteria = models.JSONField(default=list, blank=True)
    outcome = models.CharField(max_length=30, choices=Outcome.choices, default="unknown")
    investigator_causality = models.CharField(
        max_length=12, choices=Causality.choices, null=True, blank=True
    )
    sponsor_causality = models.CharField(
        max_length=12, choices=Causality.choices, null=True, blank=True
    )
    expectedness = models.CharField(
        max_length=12, choices=Expectedness.choices, null=True, blank=True
    )
    rsi_version = models.CharField(
        "reference safety information version", max_length=100, blank=True,
        help_text="The RSI (investigator's brochure section, SmPC) the expectedness was judged "
                  "against.")
    site_awareness_at = models.DateTimeField()
    sponsor_awareness_at = models.DateTimeField()
    narrative = models.TextField(blank=True)
    review_status = models.CharField(max_length=10, choices=ReviewStatus.choices, default="pending")
    # Stored by the case service on every change (safety/rules.py), never computed per row.
    is_susar = models.BooleanField(default=False, editable=False)
    susar_determined_at = models.DateTimeField(null=True, blank=True, editable=False)
    site_report_late = models.BooleanField(default=False, editable=False)
    review_due_on = models.DateField(null=True, blank=True, editable=False)
    # Day 0 of a serious case on the trial's safety clock: the date its reporting clocks would
    # count from if it is (or becomes) a SUSAR (DOMAIN A2), shown beside its review deadline.
    day_zero = models.DateField(null=True, blank=True, editable=False)
    next_due_on = models.DateField(null=True, blank=True, editable=False,
                                   help_text="The nearest open reporting obligation's due date.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["-sponsor_awareness_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(severity_grade__gte=1) & Q(severity_grade__lte=5),
                name="ae_grade_1_to_5",
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=[o.value for o in Outcome]), name="ae_outcome_valid"
            ),
            models.CheckConstraint(
                condition=Q(review_status__in=["pending", "reviewed"]), name="ae_review_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["review_status", "sponsor_awareness_at"]),
            models.Index(fields=["trial", "-sponsor_awareness_at"]),
            models.Index(fields=["site", "-sponsor_awareness_at"]),
            models.Index(fields=["trial", "review_status", "review_due_on"]),
            # The medical review queue (serious cases pending review, a few thousand among
            # hundreds of thousands): in its order, and by trial for its counts.
            models.Index(fields=["review_due_on", "next_due_on", "id"], name="ae_queue_order",
                         condition=AWAITING_REVIEW),
            models.Index(fields=["trial", "review_due_on"], name="ae_queue_trial",
                         condition=AWAITING_REVIEW),
            # A trial's serious cases and SUSARs, counted on its page from these alone.
            models.Index(fields=["trial"], name="ae_serious_trial", condition=SERIOUS_CASE),
            models.Index(fields=["trial"], name="ae_susar_trial", condition=Q(is_susar=True)),
        ]

    def __str__(self) -> str:
        return f"AE {self.pk}: {self.verbatim_term}"

    @property
    def serious(self) -> bool:
        """ICH E2A: any of the six criteria makes the event serious; the grade never does."""
        return bool(self.seriousness_criteria)

    @property
    def meddra_code(self) -> str:
        return self.term.meddra_code if self.term else ""

    @property
    def soc(self) -> str:
        return self.term.soc if self.term else ""

    def signature_content(self) -> dict:
        """What a medical review signs: the case's data, not its bookkeeping."""
        return {
            f.attname: getattr(self, f.attname)
            for f in self._meta.fields
            if f.name not in UNSIGNED_FIELDS
        }


# Bookkeeping, and what the rules derive from the signed data (re-evaluated after signing).
UNSIGNED_FIELDS = frozenset({
    "created_at", "updated_at", "review_status", "review_due_on", "next_due_on", "day_zero",
    "is_susar", "susar_determined_at", "site_report_late",
})


class CaseVersion(models.Model):
    """One piece of information about a case and the case as it stood after it: the initial
    report, a follow-up (as of its receipt) or a signed medical review. Append-only."""

    class Kind(models.TextChoices):
        INITIAL = "initial", "Initial report"
        FOLLOW_UP = "follow_up", "Follow-up"
        REVIEW = "review", "Medical review"

    adverse_event = models.ForeignKey(AdverseEvent, on_delete=models.PROTECT,
                                      related_name="versions")
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    received_at = models.DateTimeField()
    facts = models.JSONField(help_text="The case's fields after this information.")
    changes = models.JSONField(default=dict, blank=True, help_text="{field: [old, new]}")
    narrative = models.TextField(blank=True)
    recorded_by = models.ForeignKey("staffing.User", on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["adverse_event_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["adverse_event", "number"],
                                    name="case_version_number_unique"),
            models.CheckConstraint(condition=Q(kind__in=["initial", "follow_up", "review"]),
                                   name="case_version_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"AE {self.adverse_event_id} v{self.number} ({self.kind})"


class ObligationStatus(models.TextChoices):
    OPEN = "open", "Open"
    SUBMITTED = "submitted", "Submitted"
    CANCELLED = "cancelled", "Cancelled"


class ReportingObligation(TimeStampedModel):
    """A report the case owes a recipient under one rule of DOMAIN A3, with its clock. Created,
    kept and cancelled only by safety.services.obligations; submitted by a person."""

    adverse_event = models.ForeignKey(AdverseEvent, on_delete=models.PROTECT,
                                      related_name="obligations")
    trial = models.ForeignKey("trials.Trial", on_delete=models.PROTECT,
                              related_name="reporting_obligations")
    rule = models.CharField(max_length=30)
    framework = models.CharField(max_length=10)
    recipient = models.CharField(max_length=20)
    report_type = models.CharField(max_length=10)
    clock_start_at = models.DateTimeField()
    due_on = models.DateField()
    status = models.CharField(max_length=10, choices=ObligationStatus.choices,
                              default=ObligationStatus.OPEN)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reference = models.CharField(max_length=100, blank=True)
    submitted_by = models.ForeignKey("staffing.User", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    on_time = models.BooleanField(null=True, blank=True,
                                  help_text="Submitted on or before its due date (DOMAIN A2).")
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_reason = models.CharField(max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["adverse_event", "rule", "recipient", "clock_start_at"],
                                    name="obligation_once_per_rule_recipient_clock"),
            models.CheckConstraint(condition=Q(status__in=["open", "submitted", "cancelled"]),
                                   name="obligation_status_valid"),
            models.CheckConstraint(
                condition=~Q(status="submitted") | Q(submitted_at__isnull=False),
                name="obligation_submitted_has_time"),
        ]
        indexes = [
            models.Index(fields=["trial", "status", "due_on"]),
            models.Index(fields=["status", "due_on"]),
            models.Index(fields=["adverse_event", "status"]),
            # Lists across trials, nearest due first: read in order, a page stops after its rows.
            models.Index(fields=["due_on", "id"], name="obligation_list_order"),
        ]

    def __str__(self) -> str:
        return f"{self.rule} to {self.recipient} (AE {self.adverse_event_id})"

    @property
    def overdue(self) -> bool:
        """Open past its due date, on the trial's safety clock (needs the trial loaded)."""
        if self.status != ObligationStatus.OPEN:
            return False
        return rules.day_zero(timezone.now(), zone=self.trial.safety_timezone) > self.due_on
