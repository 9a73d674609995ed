"""`list_page`: the one view helper every list page calls.

The URL holds the whole state (`?q=…&status=…&sort=-number&page=3`), so a list can be
bookmarked and shared; htmx requests aimed at the list's container get only the table back.
`?export=csv|xlsx` answers the rows the filters select, all of them; past
`EXPORT_SYNC_MAX_ROWS` rows the export becomes a background job when an app has registered
the `big_export` hook (it answers the page where its progress is shown).
"""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import slugify

from croportal.lists import exporting
from croportal.lists.spec import PAGE_SIZE, ListSpec, ordered_rows, selected_rows

# Set by the app that keeps export jobs (reminders): (*, request, spec, url_kwargs, export) →
# the URL of the job's progress page.
big_export: Callable[..., str] | None = None


def list_page(request: HttpRequest, spec: ListSpec, *, template: str,
              context: dict[str, Any] | None = None,
              url_kwargs: dict[str, Any] | None = None) -> HttpResponse:
    url_kwargs = url_kwargs or {}
    filterset, rows = selected_rows(spec, user=request.user, params=request.GET,
                                    url_kwargs=url_kwargs)
    table = ordered_rows(spec, rows, sort=request.GET.get("sort"))
    export = request.GET.get("export")
    if export in exporting.FORMATS:
        return export_response(request, spec, table, export, url_kwargs=url_kwargs)
    paginate(table, request.GET.get("page"))
    page = {"table": table, "filter": filterset, "spec": spec, "list_id": f"list-{spec.filename}",
            "export_query": export_query(request)}
    htmx = getattr(request, "htmx", None)
    if htmx and htmx.target == page["list_id"]:
        return render(request, "lists/_list.html", page)
    return render(request, template, {**(context or {}), **page})


def export_response(request: HttpRequest, spec: ListSpec, table, export: str, *,
                    url_kwargs: dict[str, Any]) -> HttpResponse:
    if big_export is not None and table.data.data.count() > settings.EXPORT_SYNC_MAX_ROWS:
        return redirect(big_export(request=request, spec=spec, url_kwargs=url_kwargs,
                                   export=export))
    name = export_filename(spec, export)
    if export == "csv":
        response: HttpResponse = StreamingHttpResponse(
            exporting.csv_lines(table), content_type=exporting.CONTENT_TYPES["csv"])
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return FileResponse(exporting.xlsx_file(table, title=spec.title), as_attachment=True,
                        filename=name, content_type=exporting.CONTENT_TYPES["xlsx"])


def export_filename(spec: ListSpec, export: str) -> str:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return f"{slugify(spec.filename) or 'list'}-{stamp}.{export}"


def paginate(table, page: str | None) -> None:
    """Pages of PAGE_SIZE: past the end, the last page; not a number, the first."""
    try:
        number = max(1, int(page or 1))
    except ValueError:
        number = 1
    table.paginate(per_page=PAGE_SIZE, page=1)
    if number > 1:  # past the end → the last page (one COUNT either way)
        table.page = table.paginator.page(min(number, table.paginator.num_pages))


def export_query(request: HttpRequest) -> str:
    """The page's query without its page number or export, for the export links."""
    params = request.GET.copy()
    for name in ("page", "export"):
        params.pop(name, None)
    return params.urlencode()
