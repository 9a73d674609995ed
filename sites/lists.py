"""A site's subjects and its essential documents as lists of their own (`/sites/<id>/subjects/`,
`/sites/<id>/documents/`): sort, filter, search, page, export. The site page shows their first
rows; a subject's number leads back to the site page with that subject's forms."""

import django_filters
import django_tables2 as tables
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.html import format_html
from django_filters.widgets import DateRangeWidget

from croportal.lists import ListSpec, PortalFilterSet, PortalTable
from croportal.lists.spec import DayColumn, MomentColumn
from sites.models import DocumentKind, DocumentStatus, EssentialDocument, Subject, SubjectStatus
from sites.selectors import sites_visible_to


def _site(user, pk: int):
    return get_object_or_404(sites_visible_to(user=user), pk=pk)


def site_subject_rows(*, user, pk: int) -> QuerySet[Subject]:
    return Subject.objects.filter(site=_site(user, pk)).select_related("site")


def site_document_rows(*, user, pk: int) -> QuerySet[EssentialDocument]:
    return (EssentialDocument.objects.filter(site=_site(user, pk))
            .select_related("site", "filed_by", "reviewed_by"))


def _date_range(label: str) -> django_filters.DateFromToRangeFilter:
    return django_filters.DateFromToRangeFilter(label=label,
                                                widget=DateRangeWidget(attrs={"type": "date"}))


class SubjectFilter(PortalFilterSet):
    search_fields = ("number", "consent_version", "withdrawal_reason")
    status = django_filters.ChoiceFilter(choices=SubjectStatus.choices)
    screened_on = _date_range("Screened between")
    enrolled_on = _date_range("Enrolled between")

    class Meta:
        model = Subject
        fields = ["status", "screened_on", "enrolled_on"]


class SubjectTable(PortalTable):
    number = tables.Column("Subject")
    status = tables.Column()
    screened_on = DayColumn("Screened")
    consented_on = DayColumn("Consented")
    consent_version = tables.Column("ICF signed")
    enrolled_on = DayColumn("Enrolled")
    completed_on = DayColumn("Completed")
    withdrawn_on = DayColumn("Withdrawn")
    screen_failed_on = DayColumn("Screen failed")

    empty_text = "No subjects at this site yet."
    empty_hint = "The site's CRA screens the first subject from the site page."

    def render_number(self, record, value):
        url = reverse("sites:detail", args=[record.site_id])
        return format_html('<a href="{}?subject={}#site-subjects">{}</a>', url, value, value)


class DocumentFilter(PortalFilterSet):
    search_fields = ("title", "version", "file_name", "file_sha256")
    kind = django_filters.ChoiceFilter(choices=DocumentKind.choices)
    status = django_filters.ChoiceFilter(choices=DocumentStatus.choices)
    expires_on = _date_range("Expires between")

    class Meta:
        model = EssentialDocument
        fields = ["kind", "status", "expires_on"]


class DocumentTable(PortalTable):
    kind = tables.Column("Document")
    title = tables.Column()
    version = tables.Column()
    status = tables.Column()
    effective_on = DayColumn("Effective")
    expires_on = DayColumn("Expires")
    filed_by = tables.Column("Filed by", order_by=("filed_by__last_name", "filed_by__first_name"))
    reviewed_by = tables.Column("Reviewed by",
                                order_by=("reviewed_by__last_name", "reviewed_by__first_name"))
    reviewed_at = MomentColumn("Reviewed")
    file_name = tables.Column("File")
    file_sha256 = tables.Column("SHA-256")

    empty_text = "No essential documents filed at this site."
    empty_hint = "The site's CRA files them from the site page; the checklist there says which."

    def render_kind(self, record, value):
        url = reverse("sites:detail", args=[record.site_id])
        return format_html('<a href="{}#documents">{}</a>', url, value)

    def render_filed_by(self, value):
        return value.full_name

    def render_file_name(self, record, value):
        url = reverse("sites:document_file", args=[record.pk])
        return format_html('<a href="{}" download>{}</a>', url, value)

    def render_file_sha256(self, value):
        return format_html('<code class="sha256">{}</code>', value)

    def render_reviewed_by(self, value):
        return value.full_name


SITE_SUBJECTS = ListSpec(key="sites.lists.SITE_SUBJECTS", title="Subjects", table=SubjectTable,
                         rows=site_subject_rows, filterset=SubjectFilter, filename="subjects",
                         url_kwargs=("pk",))
SITE_DOCUMENTS = ListSpec(key="sites.lists.SITE_DOCUMENTS", title="Essential documents",
                          table=DocumentTable, rows=site_document_rows, filterset=DocumentFilter,
                          filename="documents", url_kwargs=("pk",))
