"""A trial's sites as a list of their own (`/trials/<id>/sites/`), with their enrollment: the
trial page shows only its first rows, so a 1,218-site trial's page stays as light as a small
one's. Sites are those the reader sees (a CRA: their own)."""

import django_filters
import django_tables2 as tables
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django_filters.widgets import DateRangeWidget

from croportal.lists import ListSpec, PortalFilterSet, PortalTable
from croportal.lists.spec import DayColumn, LinkedColumn
from dashboards.enrollment import sites_with_enrollment
from sites.models import Site, SiteStatus
from sites.selectors import sites_visible_to
from trials.selectors import trials_visible_to


def trial_site_rows(*, user, pk: int) -> QuerySet[Site]:
    trial = get_object_or_404(trials_visible_to(user=user), pk=pk)
    return sites_with_enrollment(queryset=sites_visible_to(user=user).filter(trial=trial))


class TrialSiteFilter(PortalFilterSet):
    search_fields = ("number", "institution", "city", "principal_investigator")
    status = django_filters.ChoiceFilter(choices=SiteStatus.choices)
    country = django_filters.CharFilter(lookup_expr="iexact", max_length=2,
                                        label="Country (ISO code)")
    activated_on = django_filters.DateFromToRangeFilter(
        label="Activated between", widget=DateRangeWidget(attrs={"type": "date"}))

    class Meta:
        model = Site
        fields = ["status", "country", "activated_on"]


class TrialSiteTable(PortalTable):
    number = LinkedColumn("No.", url_name="sites:detail")
    institution = tables.Column()
    city = tables.Column()
    country = tables.Column()
    principal_investigator = tables.Column("Principal investigator")
    status = tables.Column()
    activated_on = DayColumn("Activated")
    planned_activation_on = DayColumn("Planned activation")
    target_enrollment = tables.Column("Target")
    screened = tables.Column("Screened", accessor="screened_count")
    enrolled = tables.Column("Enrolled", accessor="enrolled_total")
    screen_failed = tables.Column("Screen failures", accessor="screen_failed_count")

    empty_text = "No sites you can see in this trial."
    empty_hint = "The trial's CRM adds sites from the trial page."


TRIAL_SITES = ListSpec(key="dashboards.lists.TRIAL_SITES", title="Sites", table=TrialSiteTable,
                       rows=trial_site_rows, filterset=TrialSiteFilter, filename="sites",
                       url_kwargs=("pk",))
