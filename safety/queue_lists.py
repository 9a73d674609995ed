"""The medical monitor's queue as two lists of the one mechanism on one page (issue 12): the
serious cases awaiting review and the reporting obligations (in one state, open unless asked),
each nearest clock first, sortable and paged on its own (table prefixes `cases_` and
`obligations_`: `?cases_page=2&obligations_sort=-due_on`), both filtered by trial and site.
Clocks are worked out once per safety time zone (SafetyToday), never by a query per row."""

import django_filters
import django_tables2 as tables
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.html import format_html, format_html_join, strip_tags
from django.utils.safestring import mark_safe

from access.checks import rows_held
from access.codenames import REVIEW_SAFETY
from croportal.lists import ListSpec, PortalFilterSet, PortalTable
from croportal.lists.spec import DayColumn, LinkedColumn, MomentColumn, format_day, format_moment
from safety.lists import criteria_of, term_of
from safety.models import AdverseEvent, ObligationStatus, ReportingObligation
from safety.selectors import (
    OBLIGATION_STATES,
    QueueRow,
    SafetyToday,
    obligations_in_state,
    queue_case_rows,
    review_queue_for,
)
from sites.models import Site
from trials.models import Trial
from trials.selectors import trials_with_permission


def clock_html(clock):
    if clock is None:
        return "—"
    late = " late" if clock.late else ""
    return format_html('<time datetime="{}">{}</time> <span class="clock{}">{}</span>',
                       clock.due_on.isoformat(), format_day(clock.due_on), late, clock.label)


def queue_case_list_rows(*, user) -> QuerySet[AdverseEvent]:
    """Serious cases awaiting review on the trials the user reviews, nearest clock first."""
    return review_queue_for(user=user)


def queue_obligation_list_rows(*, user) -> QuerySet[ReportingObligation]:
    """Every obligation of the trials the user reviews, nearest due first; the state filter
    picks one state."""
    return (rows_held(queryset=ReportingObligation.objects.all(), user=user, codename=REVIEW_SAFETY)
            .select_related("trial", "adverse_event__subject", "adverse_event__site",
                            "adverse_event__term")
            .order_by("due_on", "id"))


class QueueFilter(PortalFilterSet):
    """Trial and site, of the trials the reader reviews (the page checks them strictly)."""

    q = None  # type: ignore[assignment]  (the queue has no search box)
    trial = django_filters.ModelChoiceFilter(queryset=Trial.objects.none())
    site = django_filters.ModelChoiceFilter(queryset=Site.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        trials = trials_with_permission(user=self.user, codename=REVIEW_SAFETY)
        self.filters["trial"].queryset = trials
        self.filters["site"].queryset = Site.objects.filter(trial__in=trials)


class QueueCaseFilter(QueueFilter):
    class Meta:
        model = AdverseEvent
        fields = ["trial", "site"]


class QueueObligationFilter(QueueFilter):
    """...and the state, open unless asked (the page's default, in its exports too)."""

    site = django_filters.ModelChoiceFilter(queryset=Site.objects.none(),
                                            field_name="adverse_event__site")
    state = django_filters.ChoiceFilter(
        choices=[(s, f"{s.title()} obligations") for s in OBLIGATION_STATES],
        method="filter_state", label="Obligations")

    class Meta:
        model = ReportingObligation
        fields = ["trial", "site", "state"]

    def __init__(self, data=None, *args, **kwargs):
        data = data.copy() if data is not None else QueryDict(mutable=True)
        if not data.get("state"):
            data["state"] = "open"
        super().__init__(data, *args, **kwargs)

    def filter_state(self, queryset, name, value):
        return obligations_in_state(queryset=queryset, state=value, now=timezone.now())


# ---------------------------------------------------------------------- the tables

class CaseCells(PortalTable):
    """The case's columns both tables show; `event_of(record)` is the case of a row."""

    case = LinkedColumn("Case", accessor="pk", url_name="safety:ae_detail")
    trial = tables.Column("Trial", accessor="trial__protocol_number",
                          order_by="trial__protocol_number")
    site = tables.Column("Site", accessor="site__number", order_by="site__number")
    subject = tables.Column("Subject", accessor="subject__number", order_by="subject__number")
    term = tables.Column("Term", accessor="verbatim_term", order_by=("term__term",
                                                                     "verbatim_term"))
    severity_grade = tables.Column("Grade")
    criteria = tables.Column("Criteria", accessor="seriousness_criteria", orderable=False)
    causality = tables.Column("Causality (investigator / sponsor)", accessor="pk",
                              orderable=False)
    expectedness = tables.Column("Expectedness", default="not assessed")

    def event_of(self, record):
        return record

    @property
    def today(self) -> SafetyToday:
        """Today on each trial's safety clock, once per table (per zone, not per row)."""
        if not hasattr(self, "_today"):
            self._today = SafetyToday(timezone.now())
        return self._today

    def render_case(self, record):
        return f"AE #{self.event_of(record).pk}"

    def render_term(self, record):
        return term_of(self.event_of(record))

    value_term = render_term

    def render_criteria(self, record):
        return criteria_of(self.event_of(record).seriousness_criteria)

    value_criteria = render_criteria

    def render_causality(self, record):
        event = self.event_of(record)
        return (f"{event.get_investigator_causality_display() or 'not assessed'} / "
                f"{event.get_sponsor_causality_display() or 'not assessed'}")

    value_causality = render_causality


def _row_class(record, table) -> str:
    clock = table.clock_of(record)
    return "late" if clock and clock.late else ""


class QueueCaseTable(CaseCells):
    review_due_on = DayColumn("Review due")
    next_due_on = DayColumn("Next report due")
    susar_clocks = tables.Column("Reporting clocks from Day 0, if a SUSAR", accessor="day_zero",
                                 orderable=False, empty_values=())

    empty_text = "No serious adverse event awaits medical review."
    empty_hint = "Serious cases reported at the trials you review appear here."

    class Meta:
        sequence = ("review_due_on", "...")
        row_attrs = {"class": _row_class, "data-case": lambda record: record.pk}
        attrs = {"class": "striped queue", "id": "queue-case-table"}

    def row_of(self, record) -> QueueRow:
        return queue_case_rows(events=[record], today=self.today)[0]

    def clock_of(self, record):
        return self.row_of(record).clock

    def render_review_due_on(self, record):
        return clock_html(self.clock_of(record))

    def render_next_due_on(self, record):
        return clock_html(self.row_of(record).report)

    def render_susar_clocks(self, record):
        row = self.row_of(record)
        parts = []
        if record.day_zero:
            parts.append(format_html("<small>Day 0 {}</small>", format_day(record.day_zero)))
        if row.seven_day:
            parts.append(format_html('<span class="seven-day">7-day: {}</span>',
                                     clock_html(row.seven_day)))
        if row.fifteen_day:
            parts.append(format_html('<span class="fifteen-day">15-day: {}</span>',
                                     clock_html(row.fifteen_day)))
        return format_html_join(mark_safe("<br>"),
                                 "{}", ((p,) for p in parts)) or "—"

    def value_susar_clocks(self, record):
        row = self.row_of(record)
        return "; ".join(f"{name}: {format_day(clock.due_on)}" for name, clock in
                         (("7-day", row.seven_day), ("15-day", row.fifteen_day)) if clock)


class QueueObligationTable(CaseCells):
    due_on = DayColumn("Due")
    rule = tables.Column("Rule")
    recipient = tables.Column("Recipient")
    clock_start_at = MomentColumn("Clock start")
    case = LinkedColumn("Case", accessor="adverse_event_id", url_name="safety:ae_detail",
                        pk_from="adverse_event_id")
    site = tables.Column("Site", accessor="adverse_event__site__number",
                         order_by="adverse_event__site__number")
    subject = tables.Column("Subject", accessor="adverse_event__subject__number",
                            order_by="adverse_event__subject__number")
    term = tables.Column("Term", accessor="adverse_event__verbatim_term",
                         order_by=("adverse_event__term__term", "adverse_event__verbatim_term"))
    severity_grade = tables.Column("Grade", accessor="adverse_event__severity_grade")
    criteria = tables.Column("Criteria", accessor="adverse_event__seriousness_criteria",
                             orderable=False)
    expectedness = tables.Column("Expectedness", accessor="adverse_event__expectedness",
                                 default="not assessed")
    status = tables.Column("Status", empty_values=())

    empty_text = "No reporting obligation in this state."
    empty_hint = "Choose another state in the filters above."

    class Meta:
        sequence = ("due_on", "rule", "recipient", "clock_start_at", "case", "trial", "site",
                    "subject", "term", "severity_grade", "criteria", "causality",
                    "expectedness", "status")
        row_attrs = {"class": _row_class, "data-obligation": lambda record: record.pk}
        attrs = {"class": "striped queue", "id": "queue-obligation-table"}

    def event_of(self, record):
        return record.adverse_event

    def clock_of(self, record):
        if record.status != ObligationStatus.OPEN:
            return None
        return self.today.clock(record.due_on, record.trial.safety_timezone)

    def render_due_on(self, record):
        clock = self.clock_of(record)
        return clock_html(clock) if clock else format_day(record.due_on)

    def render_rule(self, record):
        follow_up = " (follow-up)" if record.report_type == "follow_up" else ""
        return f"{record.rule}{follow_up}"

    value_rule = render_rule

    def render_status(self, record):
        label = record.get_status_display()
        if record.status == ObligationStatus.SUBMITTED:
            timing = ("(on time)" if record.on_time
                      else format_html('<span class="late">{}</span>', "(late)"))
            return format_html("{} {} {}", label, format_moment(record.submitted_at), timing)
        if record.status == ObligationStatus.CANCELLED:
            return f"{label}: {record.cancelled_reason}"
        return label

    def value_status(self, record):
        return strip_tags(self.render_status(record))


QUEUE_CASES = ListSpec(key="safety.queue_lists.QUEUE_CASES",
                       title="Serious adverse events awaiting review", table=QueueCaseTable,
                       rows=queue_case_list_rows, filterset=QueueCaseFilter,
                       filename="queue-cases")
QUEUE_OBLIGATIONS = ListSpec(key="safety.queue_lists.QUEUE_OBLIGATIONS",
                             title="Reporting obligations", table=QueueObligationTable,
                             rows=queue_obligation_list_rows, filterset=QueueObligationFilter,
                             filename="queue-obligations")
# The page's two lists, by the `list=` an export names, with their table prefixes.
QUEUE_LISTS = {"cases": (QUEUE_CASES, "cases_"), "obligations": (QUEUE_OBLIGATIONS,
                                                                "obligations_")}
