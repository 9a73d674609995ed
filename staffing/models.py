import hashlib
import json
from datetime import date

from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from croportal.db import TimeStampedModel


class Organisation(TimeStampedModel):
    class Kind(models.TextChoices):
        CRO = "CRO", "Contract research organisation"
        SPONSOR = "SPONSOR", "Sponsor"

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["CRO", "SPONSOR"]), name="organisation_kind_valid"
            )
        ]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    timezone = models.CharField(max_length=64, default="UTC")
    # FTE the person can give across all assignments (the workload page compares allocations).
    capacity = models.DecimalField(max_digits=3, decimal_places=2, default=1)

    class Meta(AbstractUser.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(capacity__gt=0) & Q(capacity__lte=1), name="user_capacity_fraction"
            ),
        ]

    @property
    def full_name(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_sponsor_user(self) -> bool:
        return self.organisation is not None and self.organisation.kind == Organisation.Kind.SPONSOR


class Role(models.TextChoices):
    CRM = "CRM", "Clinical research manager"
    CRA = "CRA", "Clinical research associate"
    MEDICAL_MONITOR = "MEDICAL_MONITOR", "Medical monitor"
    SPONSOR_VIEWER = "SPONSOR_VIEWER", "Sponsor viewer"


class AssignmentQuerySet(models.QuerySet):
    def active_on(self, day: date) -> "AssignmentQuerySet":
        return self.filter(start_date__lte=day).filter(
            Q(end_date__isnull=True) | Q(end_date__gte=day)
        )


class Assignment(TimeStampedModel):
    """A person's role on a trial (a CRA optionally scoped to one site); the source of truth
    for their object permissions (DESIGN §4)."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="assignments")
    trial = models.ForeignKey("trials.Trial", on_delete=models.PROTECT, related_name="assignments")
    site = models.ForeignKey(
        "sites.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="assignments"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    allocation = models.DecimalField(max_digits=3, decimal_places=2, default=1)
    history = HistoricalRecords()

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["trial_id", "role", "user_id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=[r.value for r in Role]), name="assignment_role_valid"
            ),
            models.CheckConstraint(
                condition=Q(site__isnull=True) | Q(role="CRA"), name="assignment_site_only_for_cra"
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="assignment_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(allocation__gt=0) & Q(allocation__lte=1),
                name="assignment_allocation_fraction",
            ),
        ]
        indexes = [models.Index(fields=["user", "trial"]), models.Index(fields=["end_date"])]

    def __str__(self) -> str:
        scope = f" at site {self.site_id}" if self.site_id else ""
        return f"{self.user} as {self.role} on trial {self.trial_id}{scope}"

    def is_active_on(self, day: date) -> bool:
        return self.start_date <= day and (self.end_date is None or self.end_date >= day)


class TrainingRecord(TimeStampedModel):
    """A completed training (ICH E6(R2) 2.8: staff qualified by training) and when it lapses."""

    class Kind(models.TextChoices):
        GCP = "gcp", "GCP"
        PROTOCOL = "protocol", "Protocol"
        IATA = "iata", "IATA dangerous goods"
        OTHER = "other", "Other"

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="training_records")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=200, blank=True)
    completed_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["user_id", "kind", "-completed_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["gcp", "protocol", "iata", "other"]),
                name="training_record_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True)
                | Q(expires_on__gte=models.F("completed_on")),
                name="training_record_expires_after_completed",
            ),
        ]
        indexes = [models.Index(fields=["user", "kind", "expires_on"])]

    def __str__(self) -> str:
        label = self.get_kind_display() + (f" ({self.title})" if self.title else "")
        return f"{label} training of {self.user}, completed {self.completed_on}"

    def status_on(self, day: date) -> str:
        """current, expiring (within 30 days), expired (on or after expires_on), or no_expiry."""
        if self.expires_on is None:
            return "no_expiry"
        if self.expires_on <= day:
            return "expired"
        if (self.expires_on - day).days <= 30:
            return "expiring"
        return "current"


def content_hash(content: dict) -> str:
    """SHA-256 of a record's signed content, canonical JSON (sorted keys, ISO dates)."""
    payload = json.dumps(content, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


class Signature(models.Model):
    """An e-signature (21 CFR 11.50, 11.70): who, printed name, when, meaning, bound to a hash
    of what was signed. Rows are append-only (a database trigger on PostgreSQL)."""

    class Meaning(models.TextChoices):
        REVIEWED = "reviewed", "Reviewed"
        APPROVED = "approved", "Approved"
        MEDICALLY_REVIEWED = "medically_reviewed", "Medically reviewed"

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    signed_object = GenericForeignKey("content_type", "object_id")
    signer = models.ForeignKey(User, on_delete=models.PROTECT, related_name="signatures")
    printed_name = models.CharField(max_length=200)
    meaning = models.CharField(max_length=30, choices=Meaning.choices)
    signed_at = models.DateTimeField()
    content_hash = models.CharField(max_length=64)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["signed_at", "id"]
        indexes = [models.Index(fields=["content_type", "object_id"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(meaning__in=["reviewed", "approved", "medically_reviewed"]),
                name="signature_meaning_valid",
            )
        ]

    def __str__(self) -> str:
        meaning = self.get_meaning_display()
        return f"{self.printed_name}, {meaning}, {self.signed_at:%Y-%m-%d %H:%M} UTC"

    def is_valid_for(self, obj) -> bool:
        """False once the signed record has changed after signing (the signature is void)."""
        return self.content_hash == content_hash(obj.signature_content())
