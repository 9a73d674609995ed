from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from croportal.db import TimeStampedModel

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
    subject = models.ForeignKey(
        "sites.Subject", on_delete=models.PROTECT, related_name="adverse_events"
    )
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
    site_awareness_at = models.DateTimeField()
    sponsor_awareness_at = models.DateTimeField()
    review_status = models.CharField(max_length=10, choices=ReviewStatus.choices, default="pending")
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
        indexes = [models.Index(fields=["review_status", "sponsor_awareness_at"])]

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
        return {
            f.attname: getattr(self, f.attname)
            for f in self._meta.fields
            if f.name not in {"created_at", "updated_at", "review_status"}
        }
