"""The staffing lists (issue 12): training records (one's own; a CRM's team's too) and a trial's
assignments for its CRM. Statuses are computed in the query, so they sort, filter and page."""

from datetime import timedelta

import django_filters
import django_tables2 as tables
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.html import format_html

from access.checks import may_manage_staff
from access.roles import Role
from croportal.formats import format_fte
from croportal.lists import ListSpec, PortalFilterSet, PortalTable
from croportal.lists.spec import DayColumn
from staffing.models import Assignment, TrainingRecord, User, site_model
from staffing.selectors import training_records_visible_to, trials_seen_by

EXPIRING_WITHIN = timedelta(days=30)
TITLED = (TrainingRecord.Kind.PROTOCOL, TrainingRecord.Kind.OTHER)
TRAINING_STATUSES = [("expired", "Expired"), ("expiring", "Expiring within 30 days"),
                     ("current", "Current"), ("renewed", "Renewed"), ("no_expiry", "No expiry")]
ASSIGNMENT_STATUSES = [("active", "Active"), ("upcoming", "Upcoming"), ("ended", "Ended")]
_BADGES = {"expired": "invalid", "expiring": "badge", "current": "valid", "active": "valid",
           "upcoming": "badge"}


def _status_cell(value: str, labels: list[tuple[str, str]]) -> str:
    label = dict(labels).get(value, value)
    css = _BADGES.get(value)
    return format_html('<span class="{}">{}</span>', css, label) if css else label


# -------------------------------------------------------------------------------- training

def _renewed() -> Q:
    """A later-expiring record of the same training (same title for protocol/other kinds)."""
    later = TrainingRecord.objects.filter(user=OuterRef("user"), kind=OuterRef("kind"),
                                          expires_on__gt=OuterRef("expires_on"))
    titled = later.filter(title__iexact=OuterRef("title"))
    return (Q(kind__in=TITLED) & Q(Exists(titled))) | (~Q(kind__in=TITLED) & Q(Exists(later)))


def training_list_rows(*, user) -> QuerySet[TrainingRecord]:
    """The records the reader sees, each with its status today (as `status_on`, and renewed
    when a later-expiring record replaces it)."""
    today = timezone.localdate()
    return training_records_visible_to(user=user).select_related("user").annotate(status=Case(
        When(expires_on__isnull=True, then=Value("no_expiry")),
        When(_renewed(), then=Value("renewed")),
        When(expires_on__lte=today, then=Value("expired")),
        When(expires_on__lte=today + EXPIRING_WITHIN, then=Value("expiring")),
        default=Value("current"))).order_by(
        "user__last_name", "user__first_name", "user_id", "kind", "-completed_on", "pk")


class TrainingFilter(PortalFilterSet):
    search_fields = ("title", "user__first_name", "user__last_name", "user__username")
    person = django_filters.ModelChoiceFilter(field_name="user", queryset=User.objects.none(),
                                              empty_label="Everyone")
    kind = django_filters.ChoiceFilter(choices=TrainingRecord.Kind.choices,
                                       empty_label="All trainings")
    status = django_filters.ChoiceFilter(choices=TRAINING_STATUSES, empty_label="Any status")

    class Meta:
        model = TrainingRecord
        fields = ["person", "kind", "status"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        people = self.queryset.order_by().values("user_id")
        self.filters["person"].queryset = User.objects.filter(pk__in=people).order_by(
            "last_name", "first_name", "pk")


class TrainingTable(PortalTable):
    person = tables.Column("Person", accessor="pk",
                           order_by=("user__last_name", "user__first_name"))
    kind = tables.Column("Training")
    title = tables.Column("Title", default="")
    completed_on = DayColumn("Completed")
    expires_on = DayColumn("Expires", default="—")
    status = tables.Column("Status")

    empty_text = "No training recorded yet."
    empty_hint = "Add your GCP certificate with “Add a training record” below."

    def render_person(self, record):
        return record.user.full_name

    def value_person(self, record):
        return record.user.full_name

    def render_status(self, value):
        return _status_cell(value, TRAINING_STATUSES)

    def value_status(self, value):
        return dict(TRAINING_STATUSES).get(value, value)


TRAINING = ListSpec(key="staffing.lists.TRAINING", title="Training", table=TrainingTable,
                    rows=training_list_rows, filterset=TrainingFilter, filename="training")


# ----------------------------------------------------------------------------- trial staff

def trial_staff_rows(*, user, pk: int) -> QuerySet[Assignment]:
    """A trial's assignments for whoever manages its staff (404 unseen, 403 others): active
    first, then upcoming, then ended."""
    trial = get_object_or_404(trials_seen_by(user=user), pk=pk)
    if not may_manage_staff(user=user, trial=trial):
        raise PermissionDenied
    today = timezone.localdate()
    return Assignment.objects.filter(trial=trial).select_related("user", "site").annotate(
        status=Case(When(start_date__gt=today, then=Value("upcoming")),
                    When(end_date__lt=today, then=Value("ended")), default=Value("active")),
        status_rank=Case(When(start_date__gt=today, then=Value(1)),
                         When(end_date__lt=today, then=Value(2)), default=Value(0),
                         output_field=IntegerField()),
    ).order_by("status_rank", "role", "user__last_name", "pk")


class TrialStaffFilter(PortalFilterSet):
    search_fields = ("user__first_name", "user__last_name", "user__username",
                     "site__number", "site__institution")
    role = django_filters.ChoiceFilter(choices=Role.choices, empty_label="All roles")
    status = django_filters.ChoiceFilter(choices=ASSIGNMENT_STATUSES, empty_label="Any status")
    site = django_filters.ModelChoiceFilter(queryset=Assignment.objects.none(),
                                            empty_label="All sites")

    class Meta:
        model = Assignment
        fields = ["role", "status", "site"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        sites = self.queryset.order_by().values("site_id")
        self.filters["site"].queryset = site_model()._default_manager.filter(
            pk__in=sites).order_by("number")


class TrialStaffTable(PortalTable):
    person = tables.Column("Person", accessor="pk",
                           order_by=("user__last_name", "user__first_name"))
    role = tables.Column()
    site = tables.Column("Site", accessor="pk",
                         order_by=("site__number",))
    start_date = DayColumn("Start")
    end_date = DayColumn("End", default="—")
    allocation = tables.Column("Allocation")
    status = tables.Column("Status", order_by=("status_rank",))

    empty_text = "No one is assigned to this trial yet."
    empty_hint = "Add the first assignment below."

    def render_person(self, record):
        return record.user.full_name

    def value_person(self, record):
        return record.user.full_name

    def render_site(self, record):
        return self.value_site(record)

    def value_site(self, record):
        return f"{record.site.number} {record.site.institution}" if record.site else "All sites"

    def render_allocation(self, value):
        return format_fte(value)

    def value_allocation(self, value):
        return float(value)

    def render_status(self, value):
        return _status_cell(value, ASSIGNMENT_STATUSES)

    def value_status(self, value):
        return dict(ASSIGNMENT_STATUSES).get(value, value)


TRIAL_STAFF = ListSpec(key="staffing.lists.TRIAL_STAFF", title="Staff", table=TrialStaffTable,
                       rows=trial_staff_rows, filterset=TrialStaffFilter, filename="staff",
                       url_kwargs=("pk",))
