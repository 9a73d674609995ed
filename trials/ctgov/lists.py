"""The registry imports list (`/trials/import/history/`): past ClinicalTrials.gov uploads, for
whoever may create trials — their own, or everyone's for an administrator."""

import django_filters
import django_tables2 as tables
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.html import format_html

from access.checks import may_create_trials
from croportal.lists import ListSpec, PortalFilterSet, PortalTable
from croportal.lists.spec import MomentColumn
from trials.ctgov.selectors import ctgov_imports_visible_to
from trials.models import CtgovImport


def ctgov_import_rows(*, user) -> QuerySet[CtgovImport]:
    """The imports the reader sees, newest first, without their (large) records."""
    if not may_create_trials(user=user):
        raise PermissionDenied
    return (ctgov_imports_visible_to(user=user).select_related("created_by", "trial")
            .defer("record").order_by("-created_at", "-pk"))


class CtgovImportFilter(PortalFilterSet):
    search_fields = ("filename", "nct_id", "trial__protocol_number")
    state = django_filters.ChoiceFilter(choices=CtgovImport.State.choices,
                                        empty_label="Any state")

    class Meta:
        model = CtgovImport
        fields = ["state"]


class CtgovImportTable(PortalTable):
    created_at = MomentColumn("When")
    nct_id = tables.Column("NCT ID")
    filename = tables.Column("File", default="")
    state = tables.Column()
    total = tables.Column("Sites")
    who = tables.Column("Who", accessor="pk",
                        order_by=("created_by__last_name", "created_by__first_name"))
    trial = tables.Column("Trial", accessor="trial__protocol_number", default="",
                          order_by=("trial__protocol_number",))

    empty_text = "No imports yet."
    empty_hint = "Upload a study record from ClinicalTrials.gov to import a trial."

    def render_nct_id(self, record, value):
        name = "ctgov:preview" if record.state == CtgovImport.State.PREVIEW else "ctgov:progress"
        return format_html('<a href="{}">{}</a>', reverse(name, args=[record.pk]), value)

    def value_nct_id(self, value):
        return value

    def render_who(self, record):
        return record.created_by.full_name

    def value_who(self, record):
        return record.created_by.full_name

    def render_trial(self, record, value):
        return format_html('<a href="{}">{}</a>',
                           reverse("trials:detail", args=[record.trial_id]), value)

    def value_trial(self, value):
        return value


CTGOV_IMPORTS = ListSpec(key="trials.ctgov.lists.CTGOV_IMPORTS", title="Registry imports",
                         table=CtgovImportTable, rows=ctgov_import_rows,
                         filterset=CtgovImportFilter, filename="imports")
