"""What a list is: its rows as the reader may see them, its filters and search, its columns.

Rows come from `ListSpec.rows(user=..., **url_kwargs)`, a selector built on the permission
layer, so a page, its export and a background export job all select exactly the same rows.
Sorting is by the table's column names (`?sort=site`, `?sort=-activated_on`), the primary key
breaking ties so that pages never overlap; an unknown sort is ignored, as django-tables2 does.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import django_filters
import django_tables2 as tables
from django import forms
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from croportal import formats
from croportal.lists.widgets import quick

PAGE_SIZE = 50
FIRST_ROWS = 10


def format_day(value: date | None) -> str:
    return formats.format_date(value)


def format_moment(value: datetime | None) -> str:
    """On the reader's clock (the zone the request, or an export job, activated)."""
    return formats.format_datetime(value, zone=timezone.get_current_timezone())


class DayColumn(tables.Column):
    """A date, shown in the portal's one date format; a real date in XLSX exports."""

    def render(self, value):
        return format_day(value)


class MomentColumn(tables.Column):
    """A date-time in the reader's zone, zone shown; exports keep it a date-time."""

    def render(self, value):
        return format_moment(value)


_PK = 2_147_483_647  # stands for a row's primary key in a URL reversed once a table


def row_url(table: tables.Table, name: str, pk: int) -> str:
    """reverse(name, args=[pk]), reversed once a table: a page has 50 rows or more."""
    urls = table.__dict__.setdefault("_row_urls", {})
    if name not in urls:
        urls[name] = reverse(name, args=[_PK])
    return urls[name].replace(str(_PK), str(pk))


class _RowLink:
    """The cell's content in a link to the record's page (what django-tables2's linkify
    wraps around a cell, with the URL reversed once a table rather than once a cell)."""

    def __init__(self, url_name: str, pk_from: str):
        self.url_name, self.pk_from = url_name, pk_from

    def __call__(self, content, *, record, table, **kwargs):
        url = row_url(table, self.url_name, getattr(record, self.pk_from))
        return format_html('<a href="{}">{}</a>', url, content)


class LinkedColumn(tables.Column):
    """A column whose cells link to a record's page, as `linkify=(url_name, [A(pk_from)])`
    would (a table's render_<name> still renders the content); exports get the plain value."""

    def __init__(self, *args, url_name: str, pk_from: str = "pk", **kwargs):
        super().__init__(*args, **kwargs)
        self.link = _RowLink(url_name, pk_from)


class PortalTable(tables.Table):
    """The house table. Its template (settings.DJANGO_TABLES2_TEMPLATE: a subclass's own Meta
    would not inherit one set here) wraps it to scroll sideways on phones, sorts by the column
    headers and pages with htmx, and says what to do next when there are no rows."""

    empty_hint = ""  # what to do next when there are no rows

    def export_columns(self) -> list:
        """The bound columns an export writes: the visible ones not `exclude_from_export`."""
        return [column for column in self.columns if not column.column.exclude_from_export]


class PortalFilterSet(django_filters.FilterSet):
    """A FilterSet with a search box over `search_fields` (case-insensitive contains). The
    reader is passed in, so choice filters offer only what the reader may see; so are the
    list's URL arguments (a trial's list knows its trial)."""

    q = django_filters.CharFilter(method="search", label="Search")
    search_fields: tuple[str, ...] = ()

    def __init__(self, data=None, queryset=None, *, user=None, url_kwargs=None, **kwargs):
        self.user = user
        self.url_kwargs = url_kwargs or {}
        super().__init__(data, queryset=queryset, **kwargs)

    @property
    def form(self):
        """The filter form, its plain selects written by QuickSelect (croportal.lists.widgets)."""
        form = super().form
        if not getattr(form, "_quick_selects", False):
            for field in form.fields.values():
                if type(field.widget) is forms.Select:
                    field.widget = quick(field.widget)
            form._quick_selects = True
        return form

    def search(self, queryset, name, value):
        words = value.split()[:8]
        for word in words:
            match = Q()
            for lookup in self.search_fields:
                match |= Q(**{f"{lookup}__icontains": word})
            queryset = queryset.filter(match)
        return queryset


@dataclass(frozen=True)
class ListSpec:
    """One list. `key` is this object's dotted path, so a background job can find it again."""

    key: str
    title: str
    table: type[PortalTable]
    rows: Callable[..., QuerySet]
    filterset: type[PortalFilterSet] | None = None
    filename: str = "list"
    url_kwargs: tuple[str, ...] = field(default=())


def selected_rows(spec: ListSpec, *, user, params: QueryDict, url_kwargs: dict[str, Any]
                  ) -> tuple[PortalFilterSet | None, QuerySet]:
    """The rows the filters select, within what the reader may see. Invalid filters select
    nothing (the form shows why) rather than everything."""
    rows = spec.rows(user=user, **url_kwargs)
    if spec.filterset is None:
        return None, rows
    filterset = spec.filterset(params or None, queryset=rows, user=user, url_kwargs=url_kwargs)
    if filterset.is_bound and not filterset.is_valid():
        return filterset, rows.none()
    return filterset, filterset.qs


def ordered_rows(spec: ListSpec, rows: QuerySet, *, sort: str | None) -> PortalTable:
    """The table over these rows in the order asked for, ties broken by the primary key."""
    table = spec.table(rows, order_by=_known_sort(spec, sort))
    data = table.data.data
    order = list(data.query.order_by) or list(data.model._meta.ordering or [])
    if not any(term.lstrip("-") in ("pk", "id") for term in map(str, order)):
        table.data.data = data.order_by(*order, "pk")
    return table


def first_rows(spec: ListSpec, *, user, url_kwargs: dict[str, Any], all_url: str, noun: str,
               count: int = FIRST_ROWS) -> dict[str, Any]:
    """The first rows of a long list for a record page, how many there are in all, and the
    link to the full list (context for `lists/_first_rows.html`): two queries."""
    rows = spec.rows(user=user, **url_kwargs)
    table = ordered_rows(spec, rows, sort=None)
    total = table.data.data.count()
    table.data.data = table.data.data[:count]
    table.orderable = False  # sorting is the full list's business
    return {"table": table, "total": total, "shown": min(total, count), "all_url": all_url,
            "noun": noun}


def _known_sort(spec: ListSpec, sort: str | None) -> tuple[str, ...] | None:
    if not sort:
        return None
    names = set(spec.table.base_columns)
    terms = tuple(term.strip() for term in sort.split(",")[:3])
    return tuple(term for term in terms if term.lstrip("-") in names) or None
