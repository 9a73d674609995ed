"""The trials list: what the reader may see, sortable, filtered, searchable, exportable."""

import django_filters
import django_tables2 as tables
from django.db.models import QuerySet

from croportal.lists import ListSpec, PortalFilterSet, PortalTable
from croportal.lists.spec import LinkedColumn
from staffing.models import Organisation
from trials.models import Phase, Trial, TrialStatus
from trials.selectors import trials_visible_to, trials_with_counts


def trial_rows(*, user) -> QuerySet[Trial]:
    return trials_with_counts(queryset=trials_visible_to(user=user))


class TrialFilter(PortalFilterSet):
    search_fields = ("protocol_number", "title", "nct_id", "sponsor__name", "indication")
    status = django_filters.ChoiceFilter(choices=TrialStatus.choices)
    phase = django_filters.ChoiceFilter(choices=Phase.choices)
    sponsor = django_filters.ModelChoiceFilter(queryset=Organisation.objects.none())

    class Meta:
        model = Trial
        fields = ["status", "phase", "sponsor"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        sponsors = trials_visible_to(user=self.user).values("sponsor")
        self.filters["sponsor"].queryset = Organisation.objects.filter(pk__in=sponsors)


class TrialTable(PortalTable):
    protocol_number = LinkedColumn("Protocol", url_name="trials:detail")
    title = tables.Column()
    sponsor = tables.Column(accessor="sponsor__name", order_by="sponsor__name")
    phase = tables.Column()
    status = tables.Column()
    enrolled = tables.Column("Enrolled", accessor="enrolled_count")
    target_enrollment = tables.Column("Target")
    active_sites = tables.Column("Active sites", accessor="active_sites_count")
    nct_id = tables.Column("NCT ID")

    empty_text = "No trials in your view."
    empty_hint = ("A trial appears here once you are assigned to it, or when you create or "
                  "import one.")

    def render_title(self, value):
        return value if len(value) <= 70 else value[:69] + "…"

    def value_title(self, value):
        return value


TRIALS = ListSpec(key="trials.lists.TRIALS", title="Trials", table=TrialTable,
                  rows=trial_rows, filterset=TrialFilter, filename="trials")
