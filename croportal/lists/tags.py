"""`{% table_body table %}`: the rows of a PortalTable, rendered in Python.

The same markup as a template loop over `table.paginated_rows` and `row.items` with each
cell's `column.attrs.td` (lists/table.html did that), without the template engine's cost per
cell: a 50-row page of a wide list has a thousand cells. A column's cell attributes are worked
out once per table unless they hold callables (which may read the record), and each cell is
rendered in the context as `{{ cell }}` would be (escaped, localised).

Registered as a template builtin (settings TEMPLATES OPTIONS "builtins").
"""

from django import template
from django.template.base import render_value_in_context
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


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
    rows = []
    for row in table.paginated_rows:
        cells = []
        for column, attrs in zip(columns, static, strict=True):
            # BoundRow.get_cell(name) without finding the column by name again per cell
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
