"""An audit trail as a list of the one mechanism (issue 12): paged, sorted by time, filtered by
field, person and date, exported as CSV/XLSX with labels.

Its rows are not a queryset: each entry is a history row compared with the one before it
(dashboards.selectors), so two small adapters answer what croportal.lists and django-tables2 ask
of a queryset (`count`, `order_by`, slicing, `iterator`, `all`, `none`, `query.order_by`,
`model._meta.ordering`). `TrailRows`, the unfiltered trail in time order, counts in the database
and reads only the page shown (and the row before it); a filter, another sort or an export
reads the whole history (`AuditRows`, filtered in Python) — in a fixed number of queries (one
per related table) either way, whatever its length.
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

from croportal.audit import AUDIT_IGNORED
from croportal.lists import ListSpec, PortalFilterSet, PortalTable
from croportal.lists.spec import MomentColumn, format_moment
from dashboards.selectors import (
    audit_people_of,
    audit_record_for,
    audit_trail_of,
    audit_trail_window,
)

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


class TrailRows:
    """A record's whole trail, read a page at a time: counted in the database, and only the
    entries a page shows (with the row before them) compared. Sorting by anything but time,
    filtering and exporting read the whole trail (`whole`)."""

    model = _Entry
    ordered = True

    def __init__(self, record, *, descending: bool = False):
        self.record = record
        self.descending = descending
        self._count: int | None = None

    @property
    def query(self) -> SimpleNamespace:
        return SimpleNamespace(order_by=("-at", "-pk") if self.descending else ("at", "pk"))

    def whole(self) -> AuditRows:
        entries = audit_trail_of(record=self.record)
        return AuditRows(entries[::-1] if self.descending else entries,
                         self.query.order_by)

    def all(self) -> "TrailRows":
        return TrailRows(self.record, descending=self.descending)

    def none(self) -> AuditRows:
        return AuditRows([], self.query.order_by)

    def count(self) -> int:
        if self._count is None:
            self._count = self.record.history.count()
        return self._count

    def order_by(self, *terms: str) -> "TrailRows | AuditRows":
        known = [t for t in terms if t.lstrip("-") in _KEYS]
        directions = {t.startswith("-") for t in known}
        if {t.lstrip("-") for t in known} <= {"at", "pk"} and len(directions) <= 1:
            return TrailRows(self.record, descending=True in directions)
        return self.whole().order_by(*terms)

    def filter(self, keep) -> AuditRows:
        return self.whole().filter(keep)

    def iterator(self, chunk_size: int | None = None):
        return iter(self.whole())

    def __iter__(self):
        return iter(self.whole())

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key):
        if not isinstance(key, slice):
            return self.whole()[key]
        start, stop, _ = key.indices(self.count())
        return _Window(self, start, max(start, stop))


class _Window:
    """Entries start..stop of a trail in its order, read when first used (a paginator takes
    a slice of every page it is asked for, not only of the one shown)."""

    def __init__(self, rows: TrailRows, start: int, stop: int):
        self.rows, self.start, self.stop = rows, start, stop
        self._entries: list[dict] | None = None

    def entries(self) -> list[dict]:
        if self._entries is None:
            record, total = self.rows.record, self.rows.count()
            if self.rows.descending:
                window = audit_trail_window(record=record, start=total - self.stop,
                                            stop=total - self.start)
                self._entries = window[::-1]
            else:
                self._entries = audit_trail_window(record=record, start=self.start,
                                                   stop=self.stop)
        return self._entries

    def __len__(self) -> int:
        return self.stop - self.start

    def __iter__(self):
        return iter(self.entries())

    def __getitem__(self, key):
        return self.entries()[key]


def audit_rows(*, user, kind: str, pk: int) -> TrailRows:
    """The record's trail, oldest first (404 when the reader cannot see it)."""
    record = audit_record_for(user=user, kind=kind, pk=pk)
    if record is None:
        raise Http404("No such record")
    return TrailRows(record)


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
        rows = self.queryset
        record = rows.record if isinstance(rows, TrailRows) else None
        fields = (_audited_fields(type(record)) if record is not None
                  else sorted({c.field for e in rows.entries for c in e["changes"]}))
        self.filters["field"].extra["choices"] = [(f, f[:1].upper() + f[1:]) for f in fields]
        people = (audit_people_of(record=record) if record is not None
                  else sorted({e["who"] for e in rows.entries}))
        self.filters["who"].extra["choices"] = [(p, p) for p in people]

    def filter_queryset(self, queryset):  # type: ignore[override]
        data = self.form.cleaned_data
        if not any(data.get(name) for name in ("field", "who", "q")) and not (
                data.get("at") and (data["at"].start or data["at"].stop)):
            return queryset  # the whole trail: paged in the database
        if isinstance(queryset, TrailRows):
            queryset = queryset.whole()
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


def _audited_fields(model) -> list[str]:
    """The verbose names of the fields a trail compares (croportal.audit.field_changes)."""
    return sorted(str(f.verbose_name) for f in model._meta.fields
                  if f.name not in AUDIT_IGNORED)


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
