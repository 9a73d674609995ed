"""`{% table_body table %}`: the rows of a PortalTable, rendered in Python.

The same markup as a template loop over `table.paginated_rows` and `row.items` with each
cell's `column.attrs.td` (lists/table.html did that), without the template engine's cost per
cell: a 50-row page of a wide list has a thousand cells. A column's cell attributes are worked
out once per table unless they hold callables (which may read the record), and each cell is
rendered in the context as `{{ cell }}` would be (escaped, localised).

Registered as a template builtin (settings TEMPLATES OPTIONS "builtins").
"""

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.template.base import render_value_in_context
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django_tables2.columns import ManyToManyColumn

register = template.Library()
_SLOW = object()


def _choice_display(model: type, name: str):
    """Model.get_<name>_display where the field has choices (as BoundRow uses it), else None;
    False when `name` is no field of the model."""
    try:
        field = model._meta.get_field(name)  # type: ignore[attr-defined]
    except FieldDoesNotExist:
        return False
    return getattr(model, f"get_{name}_display", None) if getattr(field, "choices", ()) else None


def _cell(row, column, displays: dict):
    """BoundRow.get_cell's value, found directly for the common case — a model record and an
    accessor naming attributes along foreign keys (`trial__protocol_number`), none a method —
    and rendered as it renders; anything else goes through django-tables2 itself."""
    record, name = row.record, column.accessor
    if (not isinstance(record, models.Model) or "." in name
            or isinstance(column.column, ManyToManyColumn)):
        return _SLOW
    *path, last = name.split("__")
    owner = record
    for bit in path:  # to the penultimate object; a null foreign key ends the walk
        owner = getattr(owner, bit, _SLOW)
        if owner is None:
            break
        if not isinstance(owner, models.Model):
            return _SLOW
    if owner is None:
        value = None
    else:
        key = (type(owner), last)
        if key not in displays:
            displays[key] = _choice_display(type(owner), last)
        display = displays[key]
        if display:
            value = display(owner)
        else:
            value = getattr(owner, last, _SLOW)
            if value is _SLOW or callable(value):
                return _SLOW
    if value in column.column.empty_values:
        return column.default
    return row._call_render(column, value)


def _cell_attrs_static(column) -> bool:
    """True when the column's <td> attributes cannot depend on the row."""
    source = {**column._table.attrs, **column.column.attrs}
    td = source.get("td", source.get("cell", {}))
    return not any(callable(value) for value in td.values())


@register.simple_tag(takes_context=True)
def table_body(context, table) -> SafeString:
    columns = list(table.columns)
    static = [column.attrs["td"].as_html() if _cell_attrs_static(column) else None
              for column in columns]
    rows, displays = [], {}
    for row in table.paginated_rows:
        cells = []
        for column, attrs in zip(columns, static, strict=True):
            cell = _cell(row, column, displays)
            if cell is _SLOW:  # BoundRow.get_cell(name), without finding the column again
                cell = row._get_and_render_with(column, render_func=row._call_render,
                                                default=column.default)
            if attrs is None:  # attributes from the record: as BoundRow.items lends them
                column.current_value, column.current_record = cell, row.record
                attrs = column.attrs["td"].as_html()
            cells.append(f"<td {attrs}>{render_value_in_context(cell, context)}</td>")
        rows.append(f"<tr {row.attrs.as_html()}>{''.join(cells)}</tr>")
    if not rows:
        hint = f" {table.empty_hint}" if getattr(table, "empty_hint", "") else ""
        return format_html('<tr><td colspan="{}" class="empty">{}{}</td></tr>',
                           len(columns), table.empty_text or "Nothing here.", hint)
    return mark_safe("\n".join(rows))
