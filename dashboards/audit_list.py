"""An audit trail as a list of the one mechanism (issue 12): paged, sorted by time, filtered by
field, person and date, exported as CSV/XLSX with labels.

Its rows are not a queryset: each entry is a history row compared with the one before it
(dashboards.selectors.audit_trail_of), so `AuditRows` is a small adapter over the computed list
that answers what croportal.lists and django-tables2 ask of a queryset (`count`, `order_by`,
slicing, `iterator`, `all`, `none`, `query.order_by`, `model._meta.ordering`). The filters work
on it in Python. A record's history is read whole, in a fixed number of queries (one per related
table), whatever its length.
"""

from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import django_filters
import django_tables2 as tables
from django.http import Http404
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django_filters.widgets import DateRangeWidget

from croportal.lists import ListSpec, PortalFilterSet, PortalTable
from croportal.lists.spec import MomentColumn, format_moment
from dashboards.selectors import audit_record_for, audit_trail_of

_KEYS = ("at", "who", "action", "reason", "pk")


class _Entry:
    _meta = SimpleNamespace(ordering=["at", "pk"], verbose_name="change",
                            verbose_name_plural="changes")


@dataclass
class AuditRows:
    """The entries of one audit trail, queryset-like enough for a list and its exports."""

    entries: list[dict]
    order: tuple[str, ...] = ("at", "pk")
    model: Any = field(default=_Entry, init=False)
    ordered = True

    @property
    def query(self) -> SimpleNamespace:
        return SimpleNamespace(order_by=self.order)

    def all(self) -> "AuditRows":
        return AuditRows(list(self.entries), self.order)

    def none(self) -> "AuditRows":
        return AuditRows([], self.order)

    def count(self) -> int:
        return len(self.entries)

    def order_by(self, *terms: str) -> "AuditRows":
        known = tuple(t for t in terms if t.lstrip("-") in _KEYS)
        rows = list(self.entries)
        for term in reversed(known):  # a stable sort per key, least significant first
            key = term.lstrip("-")
            rows.sort(key=lambda e, k=key: e[k], reverse=term.startswith("-"))
        return AuditRows(rows, known)

    def filter(self, keep) -> "AuditRows":
        return AuditRows([e for e in self.entries if keep(e)], self.order)

    def iterator(self, chunk_size: int | None = None):
        return iter(self.entries)

    def __iter__(self):
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, key):
        return self.entries[key]


def audit_rows(*, user, kind: str, pk: int) -> AuditRows:
    """Every entry of the record's trail, oldest first (404 when the reader cannot see it)."""
    record = audit_record_for(user=user, kind=kind, pk=pk)
    if record is None:
        raise Http404("No such record")
    entries = audit_trail_of(record=record)
    for number, entry in enumerate(entries, start=1):
        entry["pk"] = number
    return AuditRows(entries)


def _day(moment: datetime):
    return timezone.localtime(moment).date()


class AuditFilter(PortalFilterSet):
    """Field, person, date range and words, applied to the adapter in Python."""

    field = django_filters.ChoiceFilter(choices=(), label="Field changed")
    who = django_filters.ChoiceFilter(choices=(), label="Who")
    at = django_filters.DateFromToRangeFilter(
        label="Between", widget=DateRangeWidget(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        entries = self.queryset.entries
        fields = sorted({c.field for e in entries for c in e["changes"]})
        self.filters["field"].extra["choices"] = [(f, f.capitalize()) for f in fields]
        people = sorted({e["who"] for e in entries})
        self.filters["who"].extra["choices"] = [(p, p) for p in people]

    def filter_queryset(self, queryset: AuditRows) -> AuditRows:  # type: ignore[override]
        data = self.form.cleaned_data
        if data.get("field"):
            queryset = queryset.filter(
                lambda e: any(c.field == data["field"] for c in e["changes"]))
        if data.get("who"):
            queryset = queryset.filter(lambda e: e["who"] == data["who"])
        between = data.get("at")
        if between and between.start:
            queryset = queryset.filter(lambda e: _day(e["at"]) >= between.start.date())
        if between and between.stop:
            queryset = queryset.filter(lambda e: _day(e["at"]) <= between.stop.date())
        for word in (data.get("q") or "").lower().split()[:8]:
            queryset = queryset.filter(lambda e, w=word: w in _text_of(e).lower())
        return queryset


def _changes_text(entry: dict) -> str:
    changed = entry["action"] == "changed"
    return "; ".join(f"{c.field}: {c.old_label} → {c.new_label}" if changed
                     else f"{c.field}: {c.new_label}" for c in entry["changes"])


def _text_of(entry: dict) -> str:
    return " ".join((entry["who"], entry["action"], entry["reason"], _changes_text(entry)))


class AuditTable(PortalTable):
    at = MomentColumn("When")
    who = tables.Column("Who", orderable=False)
    action = tables.Column("Action", orderable=False)
    reason = tables.Column("Reason", orderable=False)
    changes = tables.Column("Changes (old → new)", orderable=False, empty_values=())

    empty_text = "No change recorded matches."
    empty_hint = "Clear the filters to see the whole trail."

    class Meta:
        attrs = {"class": "audit"}

    def render_at(self, value):
        return format_html('<time datetime="{}">{}</time>', value.isoformat(),
                           format_moment(value))

    def render_changes(self, record):
        changed = record["action"] == "changed"
        return format_html("<ul>{}</ul>", format_html_join(
            "", "<li><strong>{}</strong>: {}{}</li>",
            ((c.field[:1].upper() + c.field[1:], f"{c.old_label} → " if changed else "",
              c.new_label) for c in record["changes"])))

    def value_changes(self, record):
        return _changes_text(record)


AUDIT_TRAIL = ListSpec(key="dashboards.audit_list.AUDIT_TRAIL", title="Audit trail",
                       table=AuditTable, rows=audit_rows, filterset=AuditFilter,
                       filename="audit-trail", url_kwargs=("kind", "pk"))
