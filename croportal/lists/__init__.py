"""One list mechanism for every list page (issue 12): a `ListSpec` names a permission-scoped
queryset, its django-filter `FilterSet` (with a search box) and its django-tables2 `Table`.
`list_page` renders it a page of rows at a time — sortable columns, filters, search, all in the
URL, htmx swapping only the table — and `?export=csv|xlsx` answers every row the filters
select, streamed, with labels for codes and dates as dates. Big exports go to a background
job (the hook `big_export` is set by the app that keeps the jobs).
"""

from croportal.lists import signatures
from croportal.lists.spec import (
    PAGE_SIZE,
    ListSpec,
    PortalFilterSet,
    PortalTable,
    first_rows,
    ordered_rows,
    selected_rows,
)
from croportal.lists.views import list_page, paginate

signatures.install()

__all__ = ["PAGE_SIZE", "ListSpec", "PortalFilterSet", "PortalTable", "first_rows",
           "list_page", "ordered_rows", "paginate", "selected_rows"]
