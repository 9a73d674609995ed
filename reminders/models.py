"""Deadlines, the reminders queued for them, in-app notifications, preferences (DESIGN §5)."""

from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Case, Q, Value, When

from croportal.db import TimeStampedModel
from croportal.formats import format_date, format_datetime
from croportal.timezones import UTC
from reminders.policies import Kind, Policy


class Deadline(TimeStampedModel):
    """Something someone must do by a time. Domain services open, move and close deadlines
    (`deadline_upsert`, `deadline_close`); the sweep reminds their owners."""

    class State(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    kind = models.CharField(max_length=30, choices=Kind.choices)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    subject = GenericForeignKey("content_type", "object_id")
    # Tells apart several deadlines of one kind on one object (e.g. a yearly report's year).
    key = models.CharField(max_length=64, blank=True, default="")
    trial = models.ForeignKey("trials.Trial", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="deadlines")
    title = models.CharField(max_length=300)
    url = models.CharField(max_length=300, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="deadlines")
    escalation_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                        on_delete=models.PROTECT, related_name="escalations")
    due_at = models.DateTimeField()
    # A date-only deadline (a milestone, an expiry, a DSUR...) keeps its day: the calendar feed
    # shows it as an all-day event and pages show the date, not a midnight on some clock.
    # Empty when it is due at a time of day (a SUSAR report, a medical review, a task).
    due_on = models.DateField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    done_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+",
                                  help_text="Who marked it done by hand (else the portal).")
    # The sweep's schedule: the owner's next reminder, the pending escalation, and the earlier
    # of the two (what the partial index orders by). Null when nothing is left to send.
    remind_at = models.DateTimeField(null=True, blank=True)
    escalate_at = models.DateTimeField(null=True, blank=True)
    next_reminder_at = models.DateTimeField(null=True, blank=True)
    last_reminded_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    reminders_sent = models.PositiveIntegerField(default=0)
    delivery_failed_at = models.DateTimeField(null=True, blank=True)
    # Lists put open deadlines first (overdue ones lead, being due earliest), then the closed:
    # stored, so that an index serves the order (a CASE on now() cannot be indexed).
    closed = models.GeneratedField(
        expression=Case(When(state="open", then=Value(False)), default=Value(True)),
        output_field=models.BooleanField(), db_persist=True, editable=False)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "content_type", "object_id", "key"],
                                    name="deadline_one_per_subject_kind_key"),
            models.CheckConstraint(condition=Q(kind__in=Kind.values), name="deadline_kind_valid"),
            models.CheckConstraint(condition=Q(state__in=["open", "done", "cancelled"]),
                                   name="deadline_state_valid"),
            models.CheckConstraint(
                condition=Q(state="open") | Q(next_reminder_at__isnull=True),
                name="deadline_closed_not_scheduled",
            ),
        ]
        indexes = [
            # The sweep: only open rows with something to send, in the order they fall due.
            models.Index(fields=["next_reminder_at"], name="deadline_sweep",
                         condition=Q(state="open") & Q(next_reminder_at__isnull=False)),
            models.Index(fields=["owner", "state", "due_at"], name="deadline_owner_state_due"),
            models.Index(fields=["trial", "state", "due_at"], name="deadline_trial_state_due"),
            models.Index(fields=["escalation_user", "state"], name="deadline_escalation_state"),
            # The lists' order (open first, by due time): an administrator's page of 50 reads
            # 50 index entries, whatever the number of deadlines.
            models.Index(fields=["closed", "due_at", "id"], name="deadline_list_order"),
            # The same order within one trial (the trial deadlines page): a page reads the
            # trial's first entries, not the whole order filtered down to the trial.
            models.Index(fields=["trial", "closed", "due_at", "id"],
                         name="deadline_trial_list_order"),
            # Who owns a trial's deadlines (the trial deadlines page's owner filter), read
            # from the index alone.
            models.Index(fields=["trial", "owner"], name="deadline_trial_owner"),
        ]

    def __str__(self) -> str:
        due = format_date(self.due_on) if self.due_on else format_datetime(self.due_at, zone=UTC)
        return f"{self.get_kind_display()}: {self.title} (due {due})"

    @property
    def all_day(self) -> bool:
        return self.due_on is not None

    def is_overdue(self, now) -> bool:
        return self.state == self.State.OPEN and self.due_at <= now


class ReminderPolicy(models.Model):
    """An administrator's override of a kind's reminder stages (else DEFAULT_POLICIES)."""

    kind = models.CharField(max_length=30, choices=Kind.choices, unique=True)
    before_hours = models.JSONField(default=list, blank=True,
                                    help_text="Hours before due, e.g. [168, 24].")
    remind_at_due = models.BooleanField(default=True)
    overdue_every_hours = models.PositiveIntegerField(null=True, blank=True)
    escalate_after_hours = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "reminder policies"

    def __str__(self) -> str:
        return f"Reminder policy for {self.get_kind_display()}"

    def as_policy(self) -> Policy:
        return Policy(
            before=tuple(timedelta(hours=float(h)) for h in self.before_hours),
            at_due=self.remind_at_due,
            overdue_every=(timedelta(hours=self.overdue_every_hours)
                           if self.overdue_every_hours else None),
            escalate_after=(timedelta(hours=self.escalate_after_hours)
                            if self.escalate_after_hours is not None else None),
        )


class Reminder(models.Model):
    """One reminder owed to one person for one claim of a deadline: the outbox row that a
    delivery task works from. Unique per claim, so a reminder exists (and is sent) once."""

    class Stage(models.TextChoices):
        NEW = "new", "New deadline"
        BEFORE_DUE = "before_due", "Due soon"
        AT_DUE = "at_due", "Due now"
        OVERDUE = "overdue", "Overdue"
        ESCALATION = "escalation", "Escalation"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    deadline = models.ForeignKey(Deadline, on_delete=models.CASCADE, related_name="reminders")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                  related_name="reminders")
    stage = models.CharField(max_length=20, choices=Stage.choices)
    scheduled_for = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["deadline", "recipient", "stage", "scheduled_for"],
                                    name="reminder_once_per_claim"),
        ]
        indexes = [
            # Re-dispatch of reminders whose message never reached the broker.
            models.Index(fields=["dispatched_at"], name="reminder_pending",
                         condition=Q(state="pending")),
        ]

    def __str__(self) -> str:
        return f"{self.get_stage_display()} reminder to {self.recipient} ({self.state})"


class Notification(models.Model):
    """An in-app notice (the bell). One per reminder at most, whatever the redeliveries."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="notifications")
    kind = models.CharField(max_length=30)
    message = models.CharField(max_length=500)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    deadline = models.ForeignKey(Deadline, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="notifications")
    reminder = models.OneToOneField(Reminder, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="notification")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notification_user_recent"),
            models.Index(fields=["user"], name="notification_unread",
                         condition=Q(read_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"To {self.user}: {self.message}"


class NotificationPreference(models.Model):
    """How a person wants to hear: e-mail on/off (overall and per kind), digest only."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="notification_preference")
    email_enabled = models.BooleanField(default=True)
    digest_only = models.BooleanField(
        default=False, help_text="No e-mail per reminder; everything comes in the daily digest.")
    daily_digest = models.BooleanField(default=True)
    muted_kinds = models.JSONField(default=list, blank=True,
                                   help_text="Deadline kinds with no e-mail (in-app only).")

    def __str__(self) -> str:
        return f"Notification preferences of {self.user}"

    def wants_email_for(self, kind: str) -> bool:
        return self.email_enabled and not self.digest_only and kind not in self.muted_kinds


class Digest(models.Model):
    """The daily digest sent to a person for one local date: at most one per day."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="digests")
    day = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)
    deadline_count = models.PositiveIntegerField(default=0)
    emailed = models.BooleanField(default=False)

    class Meta:
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="digest_once_a_day")]

    def __str__(self) -> str:
        return f"Digest for {self.user} on {self.day}"


class CalendarFeed(models.Model):
    """A person's secret iCalendar URL; only the SHA-256 of the secret is stored, and a new
    secret replaces (revokes) the old one."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="calendar_feed")
    secret_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Calendar feed of {self.user}"


class Heartbeat(models.Model):
    """The last sign of life of a Celery worker (written every half minute while it runs, with
    the queues it consumes) or of beat (each time it sends due tasks): /healthz/ and the pages
    of jobs waiting for a worker read these rows (reminders/heartbeats.py)."""

    class Kind(models.TextChoices):
        WORKER = "worker", "Worker"
        BEAT = "beat", "Beat"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=255, unique=True)  # "celery@host", "beat@host"
    queues = models.CharField(max_length=1000, blank=True)  # comma-separated, for a worker
    seen_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["kind", "seen_at"], name="heartbeat_latest")]

    def __str__(self) -> str:
        return f"{self.name} seen at {self.seen_at:%Y-%m-%d %H:%M:%S}"


class ExportJob(models.Model):
    """A list export too big to stream in a request (`?export=` past EXPORT_SYNC_MAX_ROWS):
    the list (its spec's dotted path), the URL's arguments and query, whom it is for; run on
    the `exports` queue, which writes its progress here and its file to the exports storage.
    The row is the outbox: published after its commit, and again by beat if no worker took it.
    The rows are re-selected as its owner sees them when it runs."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                   related_name="+")
    spec = models.CharField(max_length=200)
    title = models.CharField(max_length=200)
    url_kwargs = models.JSONField(default=dict, blank=True)
    query = models.CharField(max_length=2000, blank=True)
    format = models.CharField(max_length=4)
    timezone = models.CharField(max_length=64, default="UTC")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    file = models.CharField(max_length=300, blank=True)  # a name in the exports storage
    filename = models.CharField(max_length=200, blank=True)  # what the download is called
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "created_at"], name="exportjob_waiting")]
        constraints = [
            models.CheckConstraint(condition=Q(format__in=["csv", "xlsx"]),
                                   name="exportjob_format_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.format}) for {self.created_by_id}: {self.state}"

    @property
    def percent(self) -> int:
        return 100 if self.state == self.State.DONE else (
            int(100 * self.done / self.total) if self.total else 0)
