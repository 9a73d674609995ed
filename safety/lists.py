"""Safety as lists (issue 12): a trial's adverse-event cases (`/safety/trials/<id>/cases/`) and
the reporting obligations the reader sees across trials (`/safety/obligations/`). Sponsor
viewers read safety as aggregate counts only: a trial they see answers 403 here, never a case.
Rows are stored results (SUSAR, clocks, due dates): no reporting rule runs per row."""

import django_filters
import django_tables2 as tables
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.html import format_html
from django_filters.widgets import DateRangeWidget

from croportal.lists import ListSpec, PortalFilterSet, PortalTable
from croportal.lists.spec import DayColumn, LinkedColumn, MomentColumn
from safety import rules
from safety.models import AdverseEvent, ReportingObligation, ReviewStatus
from safety.selectors import (
    OBLIGATION_STATES,
    SERIOUS,
    adverse_events_visible_to,
    obligations_in_state,
    obligations_visible_to,
)
from sites.models import Site
from trials.models import Trial
from trials.selectors import trials_visible_to

YES_NO = (("true", "Yes"), ("false", "No"))


def _no_sponsor(user) -> None:
    if getattr(user, "is_sponsor_user", False):
        raise PermissionDenied("Sponsor viewers see safety as aggregate counts only.")


def term_of(event: AdverseEvent) -> str:
    return event.term.term if event.term_id else event.verbatim_term


def criteria_of(criteria: list) -> str:
    return ", ".join(str(c).replace("_", " ") for c in criteria) or "Not serious"


# ---------------------------------------------------------------------- a trial's cases

def trial_case_rows(*, user, pk: int) -> QuerySet[AdverseEvent]:
    """The cases of one trial the reader sees, newest first (a sponsor viewer: 403)."""
    trial = get_object_or_404(trials_visible_to(user=user), pk=pk)
    _no_sponsor(user)
    return (adverse_events_visible_to(user=user).filter(trial=trial)
            .select_related("subject", "site", "term"))


class CaseFilter(PortalFilterSet):
    search_fields = ("verbatim_term", "term__term")
    serious = django_filters.TypedChoiceFilter(
        choices=YES_NO, coerce=lambda v: v == "true", method="filter_serious", label="Serious")
    is_susar = django_filters.TypedChoiceFilter(
        choices=YES_NO, coerce=lambda v: v == "true", label="SUSAR")
    site = django_filters.ModelChoiceFilter(queryset=Site.objects.none())
    review_status = django_filters.ChoiceFilter(choices=ReviewStatus.choices,
                                                label="Review state")
    onset_date = django_filters.DateFromToRangeFilter(
        label="Onset between", widget=DateRangeWidget(attrs={"type": "date"}))

    class Meta:
        model = AdverseEvent
        fields = ["serious", "is_susar", "site", "review_status", "onset_date"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["site"].queryset = (Site.objects.filter(pk__in=self.queryset.values("site"))
                                         .order_by("number"))

    def filter_serious(self, queryset, name, value):
        return queryset.filter(SERIOUS) if value else queryset.exclude(SERIOUS)


class CaseTable(PortalTable):
    case = LinkedColumn("Case", accessor="pk", url_name="safety:ae_detail")
    subject = tables.Column("Subject", accessor="subject__number", order_by="subject__number")
    term = tables.Column("Term", accessor="verbatim_term", order_by=("term__term",
                                                                     "verbatim_term"))
    onset_date = DayColumn("Onset")
    seriousness = tables.Column("Seriousness", accessor="seriousness_criteria",
                                orderable=False)
    severity_grade = tables.Column("Grade")
    is_susar = tables.Column("SUSAR")
    outcome = tables.Column("Outcome")
    review_status = tables.Column("Review")
    site = tables.Column("Site", accessor="site__number", order_by="site__number")

    empty_text = "No adverse event you can see in this trial matches."
    empty_hint = ("Clear the filters, or wait for the sites' CRAs to report events from their "
                  "subjects' pages.")

    def render_case(self, value):
        return f"AE #{value}"

    def render_term(self, record):
        return term_of(record)

    def value_term(self, record):
        return term_of(record)

    def render_seriousness(self, value):
        return criteria_of(value)

    def value_seriousness(self, value):
        return criteria_of(value)

    def render_is_susar(self, value):
        return format_html("<strong>{}</strong>", "SUSAR") if value else "—"

    def value_is_susar(self, value):
        return "Yes" if value else "No"


TRIAL_CASES = ListSpec(key="safety.lists.TRIAL_CASES", title="Adverse events", table=CaseTable,
                       rows=trial_case_rows, filterset=CaseFilter, filename="adverse-events",
                       url_kwargs=("pk",))


# ---------------------------------------------------------------------- obligations

def obligation_rows(*, user) -> QuerySet[ReportingObligation]:
    """Every reporting obligation of the cases the reader sees, nearest due first."""
    _no_sponsor(user)
    return (obligations_visible_to(user=user)
            .select_related("trial", "adverse_event__site", "adverse_event__subject",
                            "submitted_by"))


class ObligationFilter(PortalFilterSet):
    search_fields = ("rule", "recipient", "reference", "adverse_event__verbatim_term")
    trial = django_filters.ModelChoiceFilter(queryset=Trial.objects.none())
    state = django_filters.ChoiceFilter(
        choices=[(s, s.title()) for s in OBLIGATION_STATES], method="filter_state",
        label="State")
    rule = django_filters.ChoiceFilter(choices=[(r, r) for r in rules.RULES])
    due_on = django_filters.DateFromToRangeFilter(
        label="Due between", widget=DateRangeWidget(attrs={"type": "date"}))

    class Meta:
        model = ReportingObligation
        fields = ["trial", "state", "rule", "due_on"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["trial"].queryset = trials_visible_to(user=self.user).filter(
            pk__in=self.queryset.values("trial")).order_by("protocol_number")

    def filter_state(self, queryset, name, value):
        return obligations_in_state(queryset=queryset, state=value, now=timezone.now())


class ObligationTable(PortalTable):
    rule = tables.Column("Rule")
    recipient = tables.Column("Recipient")
    case = LinkedColumn("Case", accessor="adverse_event_id", url_name="safety:ae_detail",
                        pk_from="adverse_event_id")
    trial = tables.Column("Trial", accessor="trial__protocol_number",
                          order_by="trial__protocol_number")
    site = tables.Column("Site", accessor="adverse_event__site__number",
                         order_by="adverse_event__site__number")
    due_on = DayColumn("Due")
    status = tables.Column("State")
    submitted_at = MomentColumn("Submitted")
    submitted_by = tables.Column("Submitted by", accessor="submitted_by__full_name",
                                 order_by=("submitted_by__last_name",
                                           "submitted_by__first_name"))
    on_time = tables.Column("On time")

    empty_text = "No reporting obligation you can see matches."
    empty_hint = ("Obligations appear when a case becomes reportable (a SUSAR); clear the "
                  "filters to see every state.")

    def render_case(self, value):
        return f"AE #{value}"

    def render_on_time(self, value):
        return {True: "Yes", False: "Late"}.get(value, "—")

    def value_on_time(self, value):
        return {True: "Yes", False: "Late"}.get(value, "")


OBLIGATIONS = ListSpec(key="safety.lists.OBLIGATIONS", title="Reporting obligations",
                       table=ObligationTable, rows=obligation_rows, filterset=ObligationFilter,
                       filename="obligations")
