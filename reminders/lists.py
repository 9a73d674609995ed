"""The deadline and notification lists (issue 12): a person's own deadlines, a trial's deadlines
for its CRM, a person's notifications. Each row's actions (done, reassign, mark read) are page
controls, left out of exports; what they need per row comes from the queryset."""

import django_filters
import django_tables2 as tables
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, Case, Q, QuerySet, Value, When
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from access.checks import may_manage_staff
from croportal.lists import ListSpec, PortalFilterSet, PortalTable
from croportal.lists.spec import MomentColumn, format_day, format_moment, row_url
from reminders.models import Deadline, Notification
from reminders.policies import DONE_BY_HAND, Kind
from reminders.selectors import (
    deadline_owner_ids_of_trial,
    deadlines_for_list,
    deadlines_of_trial,
    deadlines_visible_to,
    notifications_of,
    trials_seen_by,
)

DEFAULT_STATE = Deadline.State.OPEN


# ------------------------------------------------------------------------------------ rows

def _listed(queryset: QuerySet[Deadline], *, user) -> QuerySet[Deadline]:
    """Overdue first, then by due time, with what a row shows (one query)."""
    escalated = Q(escalation_user_id=user.pk) & ~Q(owner_id=user.pk)
    return deadlines_for_list(queryset=queryset).annotate(escalated_to_me=Case(
        When(escalated, then=Value(True)), default=Value(False), output_field=BooleanField()))


def my_deadline_rows(*, user) -> QuerySet[Deadline]:
    """The reader's own deadlines and those escalated to them."""
    mine = deadlines_visible_to(user=user).filter(Q(owner=user) | Q(escalation_user=user))
    return _listed(mine, user=user)


def trial_deadline_rows(*, user, pk: int) -> QuerySet[Deadline]:
    """Every deadline of one trial, for its CRM and administrators (404 unseen, 403 others)."""
    trial = get_object_or_404(trials_seen_by(user=user), pk=pk)
    if not may_manage_staff(user=user, trial=trial):
        raise PermissionDenied
    return _listed(deadlines_of_trial(trial=trial), user=user)


def notification_rows(*, user) -> QuerySet[Notification]:
    return notifications_of(user=user).order_by("-created_at", "-id")


# --------------------------------------------------------------------------------- filters

class _DeadlineFilter(PortalFilterSet):
    """State is open unless the URL says otherwise (`state=` for every state), so a sort or a
    page link keeps showing the open deadlines."""

    search_fields = ("title",)
    kind = django_filters.ChoiceFilter(choices=Kind.choices, empty_label="All kinds")
    state = django_filters.ChoiceFilter(choices=Deadline.State.choices, empty_label="All")

    class Meta:
        model = Deadline
        fields: list[str] = []

    def __init__(self, data=None, *args, **kwargs):
        data = data.copy() if data is not None else {}
        if "state" not in data:
            data["state"] = DEFAULT_STATE
        super().__init__(data, *args, **kwargs)


class MyDeadlineFilter(_DeadlineFilter):
    trial = django_filters.ModelChoiceFilter(queryset=Deadline.objects.none(),
                                             empty_label="All trials")

    class Meta(_DeadlineFilter.Meta):
        fields = ["trial", "kind", "state"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["trial"].queryset = trials_seen_by(user=self.user).order_by(
            "protocol_number")


class TrialDeadlineFilter(_DeadlineFilter):
    owner = django_filters.ModelChoiceFilter(queryset=Deadline.objects.none(),
                                             empty_label="Anyone")

    class Meta(_DeadlineFilter.Meta):
        fields = ["owner", "kind", "state"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        owners = deadline_owner_ids_of_trial(trial_id=self.url_kwargs["pk"])
        self.filters["owner"].queryset = get_user_model().objects.filter(
            pk__in=owners).order_by("first_name", "last_name", "pk")


class NotificationFilter(PortalFilterSet):
    search_fields = ("message",)
    unread = django_filters.BooleanFilter(field_name="read_at", lookup_expr="isnull",
                                          label="Unread")

    class Meta:
        model = Notification
        fields = ["unread"]


# ---------------------------------------------------------------------------------- tables

def _row_form(table: PortalTable, *, action: str, buttons: str) -> str:
    """A row's small POST form with the CSRF token and the way back (`next`) of the page
    render_table lends the table, written in Python: a template rendered once a row cost a
    third of a 50-row page. Token and path are read once a table."""
    if "_row_form_parts" not in table.__dict__:  # cached on the table, as row_url's URLs
        page = getattr(table, "context", None)
        request = page.get("request") if page is not None else None
        table.__dict__["_row_form_parts"] = (
            (get_token(request), request.get_full_path()) if request is not None else ("", ""))
    token, back = table.__dict__["_row_form_parts"]
    return format_html(
        '<form method="post" hx-boost="false" action="{}" class="inline">'
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
        '<input type="hidden" name="next" value="{}">{}</form>', action, token, back, buttons)


def _row_class(record) -> str:
    return "overdue" if getattr(record, "overdue", False) else ""


class DeadlineTable(PortalTable):
    due = MomentColumn("Due", accessor="due_at", order_by=("due_at",))
    overdue = tables.Column("Overdue", order_by=("overdue", "due_at"))
    title = tables.Column("Deadline")
    kind = tables.Column()
    trial = tables.Column("Trial", accessor="trial__protocol_number",
                          order_by=("trial__protocol_number",))
    state = tables.Column()
    actions = tables.Column("", accessor="pk", orderable=False, exclude_from_export=True)

    empty_text = "No deadline matches: nothing is due."
    empty_hint = ("Show every state with “State: All”, or set a deadline for a task or a "
                  "visit with “New deadline”.")

    class Meta:
        row_attrs = {"class": _row_class}

    def render_due(self, record):
        return format_day(record.due_on) if record.due_on else format_moment(record.due_at)

    def value_due(self, record):
        return record.due_on or record.due_at

    def render_overdue(self, value):
        return mark_safe('<span class="badge overdue">overdue</span>') if value else ""

    def value_overdue(self, value):
        return "Yes" if value else "No"

    def render_title(self, record, value):
        text = (format_html('<a href="{}">{}</a>', record.url, value) if record.url
                else format_html("{}", value))
        if getattr(record, "escalated_to_me", False):
            text = format_html('{} <span class="badge">escalated to you</span>', text)
        if record.delivery_failed_at:
            text = format_html('{} <span class="badge overdue" title="A reminder could not be '
                               'delivered">delivery failed</span>', text)
        return text

    def value_title(self, value):
        return value

    def render_actions(self, record):
        """Reassign (the trial's CRM, open deadlines: the page's one reassign form) and done."""
        if record.state != Deadline.State.OPEN:
            return ""
        parts = []
        if self.reassigns:
            parts.append(format_html(
                '<button type="submit" form="reassign" formaction="{}" class="outline secondary"'
                ' aria-label="Reassign {} to the person chosen above">Reassign</button>',
                row_url(self, "reminders:deadline_reassign", record.pk), record.title))
        if record.kind in DONE_BY_HAND:
            parts.append(_row_form(
                self, action=row_url(self, "reminders:deadline_done", record.pk),
                buttons=mark_safe('<button type="submit" class="outline">Done</button>')))
        return format_html_join("", "{}", ((part,) for part in parts))

    reassigns = False  # rows point at the page's one reassign form (the trial deadlines page)


class TrialDeadlineTable(DeadlineTable):
    reassigns = True
    owner = tables.Column("Owner", accessor="pk",
                          order_by=("owner__first_name", "owner__last_name"))

    empty_text = "No deadline of this trial matches."
    empty_hint = "Show every state with “State: All”, or clear the filters."

    class Meta(DeadlineTable.Meta):
        sequence = ("due", "overdue", "title", "kind", "trial", "owner", "state", "actions")

    def render_owner(self, record):
        name = record.owner.full_name
        if getattr(record, "owner_on_trial", True):
            return name
        return format_html('{} <span class="badge overdue" title="No longer on this trial: '
                           'reminders are not sent">left the trial</span>', name)

    def value_owner(self, record):
        return record.owner.full_name



class NotificationTable(PortalTable):
    created_at = MomentColumn("When")
    message = tables.Column()
    read_at = MomentColumn("Read", default="")
    actions = tables.Column("", accessor="pk", orderable=False, exclude_from_export=True)

    empty_text = "No notifications."
    empty_hint = "Reminders of your deadlines appear here and under the bell."

    class Meta:
        row_attrs = {"class": lambda record: "" if record.read_at else "unread"}

    def render_message(self, record, value):
        if record.read_at:
            return value
        return format_html("<strong>{}</strong>", value)

    def render_read_at(self, value):
        return format_moment(value)

    def render_actions(self, record):
        """Open it (marking it read) or mark it read; once read, a link."""
        if not record.read_at:
            return _row_form(
                self, action=row_url(self, "reminders:notification_read", record.pk),
                buttons=mark_safe('<button type="submit" name="open" value="1" class="outline">'
                                  'Open</button> <button type="submit" class="outline '
                                  'secondary">Mark read</button>'))
        return format_html('<a href="{}">Open</a>', record.url) if record.url else ""


MY_DEADLINES = ListSpec(key="reminders.lists.MY_DEADLINES", title="My deadlines",
                        table=DeadlineTable, rows=my_deadline_rows, filterset=MyDeadlineFilter,
                        filename="deadlines")
TRIAL_DEADLINES = ListSpec(key="reminders.lists.TRIAL_DEADLINES", title="Trial deadlines",
                           table=TrialDeadlineTable, rows=trial_deadline_rows,
                           filterset=TrialDeadlineFilter, filename="trial-deadlines",
                           url_kwargs=("pk",))
NOTIFICATIONS = ListSpec(key="reminders.lists.NOTIFICATIONS", title="Notifications",
                         table=NotificationTable, rows=notification_rows,
                         filterset=NotificationFilter, filename="notifications")
