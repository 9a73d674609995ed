import hashlib
import json
from datetime import date

from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from access.roles import Role
from croportal.db import TimeStampedModel
from croportal.formats import format_datetime


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

    def __str__(self) -> str:
        # People are shown by name in every select and table (a username is a login).
        return self.full_name

    @property
    def full_name(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_sponsor_user(self) -> bool:
        return self.organisation is not None and self.organisation.kind == Organisation.Kind.SPONSOR


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
        return f"{self.printed_name}, {meaning}, {format_datetime(self.signed_at, zone='UTC')}"

    def is_valid_for(self, obj) -> bool:
        """False once a change of the signed record was recorded against this signature: the
        invalidation is a stored fact, so changing the values back does not revive it. A hash
        that no longer matches (a write that bypassed the audited save) also voids it."""
        if SignatureInvalidation.objects.filter(signature=self).exists():
            return False
        return self.content_hash == content_hash(obj.signature_content())


class SignatureInvalidation(models.Model):
    """The recorded end of a signature's validity: the signed record changed (its content hash
    no longer matched) at `invalidated_at`, by whom, with which reason. Append-only like the
    signature (a PostgreSQL trigger), at most one per signature."""

    signature = models.OneToOneField(Signature, on_delete=models.PROTECT,
                                     related_name="invalidation")
    invalidated_at = models.DateTimeField()
    changed_by = models.ForeignKey(User, null=True, on_delete=models.PROTECT,
                                   related_name="+")
    change_reason = models.TextField(blank=True)
    # What the change made of the record: its revision and content hash right after it, and
    # the history row (simple-history id) of the change, for the inspector's cross-reference.
    record_revision = models.PositiveIntegerField(null=True)
    content_hash = models.CharField(max_length=64)
    history_id = models.PositiveBigIntegerField(null=True)

    class Meta:
        ordering = ["invalidated_at", "id"]

    def __str__(self) -> str:
        return (f"Signature {self.signature_id} invalidated "
                f"{format_datetime(self.invalidated_at, zone='UTC')}")


class SigningAttempts(models.Model):
    """Consecutive failed password re-entries at e-signatures of one account (21 CFR
    11.300(d)); a successful signature or an administrator's unlock resets the count. Kept
    off the User row so that a stale `user.save()` cannot reset it."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="signing_attempts")
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_failure_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "signing attempts"

    def __str__(self) -> str:
        return f"{self.user}: {self.consecutive_failures} consecutive failed signing attempts"


class SigningLock(TimeStampedModel):
    """Signing blocked for an account after SIGNATURE_FAILURE_LIMIT consecutive wrong passwords
    (21 CFR 11.300(d)): who, when, at which record; who unlocked it, when and why. At most one
    open lock per account; audited (its history is append-only)."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="signing_locks")
    locked_at = models.DateTimeField()
    failures = models.PositiveIntegerField()
    content_type = models.ForeignKey(ContentType, null=True, blank=True,
                                     on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    record_label = models.CharField("record", max_length=300, blank=True)
    unlocked_at = models.DateTimeField(null=True, blank=True)
    unlocked_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    unlock_reason = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-locked_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=Q(unlocked_at__isnull=True),
                                    name="signing_lock_one_open_per_user"),
        ]

    def __str__(self) -> str:
        state = "unlocked" if self.unlocked_at else "locked"
        since = format_datetime(self.locked_at, zone="UTC")
        return f"Signing {state} for {self.user} since {since}"

    @property
    def is_open(self) -> bool:
        return self.unlocked_at is None


class ApiToken(models.Model):
    """An API token (`Authorization: Token <key>`). Only the SHA-256 of the key is stored. It
    ends after API_TOKEN_IDLE_SECONDS without use, at `expires_at`, when revoked (log-out, the
    admin), and when the account's password changes (`auth_fingerprint`) or it is deactivated."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    key_prefix = models.CharField(max_length=8, help_text="First characters, to tell tokens apart.")
    # The account's session auth hash (an HMAC of its password hash) when the token was issued.
    auth_fingerprint = models.CharField(max_length=128)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self) -> str:
        return f"API token {self.key_prefix}… of {self.user}"


def trial_model() -> type[models.Model]:
    """The trial model, reached through the assignment's string foreign key (staffing sits
    below trials and does not import it)."""
    return Assignment._meta.get_field("trial").related_model  # type: ignore[return-value]


def site_model() -> type[models.Model]:
    return Assignment._meta.get_field("site").related_model  # type: ignore[return-value]
