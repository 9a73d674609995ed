from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from access.checks import manages_any_trial, may_create_trials
from croportal.broker import broker_status
from croportal.celery import app as celery_app
from croportal.csv_safe import csv_writer
from croportal.lists import exporting, ordered_rows, paginate, selected_rows
from croportal.lists.views import export_query, export_response
from dashboards.audit_labels import record_page
from dashboards.audit_list import AUDIT_TRAIL
from dashboards.selectors import audit_record_for, audit_trail_of, home_for
from dashboards.workload import cra_workload
from reminders.heartbeats import liveness
from staffing.selectors import signatures_of


@login_required
def home(request):
    return render(request, "dashboards/home.html", {
        **home_for(user=request.user),
        "can_create_trial": may_create_trials(user=request.user),
    })


def _audited_record(request, kind: str, pk: int):
    record = audit_record_for(user=request.user, kind=kind, pk=pk)
    if record is None:
        raise Http404("No such record")
    return record


@login_required
def audit_trail(request, kind: str, pk: int):
    """The record's trail through the list mechanism: pages of 50, sort by time, filters,
    `?export=csv|xlsx`. `entries`: the page's entries (as before the mechanism)."""
    record = _audited_record(request, kind, pk)
    url_kwargs = {"kind": kind, "pk": pk}
    filterset, rows = selected_rows(AUDIT_TRAIL, user=request.user, params=request.GET,
                                    url_kwargs=url_kwargs)
    table = ordered_rows(AUDIT_TRAIL, rows, sort=request.GET.get("sort"))
    export = request.GET.get("export")
    if export in exporting.FORMATS:
        return export_response(request, AUDIT_TRAIL, table, export, url_kwargs=url_kwargs)
    paginate(table, request.GET.get("page"))
    page = {"table": table, "filter": filterset, "spec": AUDIT_TRAIL,
            "list_id": f"list-{AUDIT_TRAIL.filename}", "export_query": export_query(request),
            "entries": [row.record for row in table.paginated_rows]}
    htmx = getattr(request, "htmx", None)
    if htmx and htmx.target == page["list_id"]:
        return render(request, "lists/_list.html", page)
    return render(request, "dashboards/audit_trail.html", {
        **page, "record": record, "kind": kind,
        "record_url": record_page(kind=kind, record=record),
        "signatures": signatures_of(record=record),
    })


@login_required
def audit_trail_csv(request, kind: str, pk: int):
    record = _audited_record(request, kind, pk)
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="audit-{kind}-{pk}.csv"'
    writer = csv_writer(response)
    writer.writerow(["at_utc", "who", "action", "reason", "field", "old", "new", "old_label",
                     "new_label"])
    for entry in audit_trail_of(record=record):
        for change in entry["changes"] or [None]:
            values = ([change.field, change.old, change.new, change.old_label, change.new_label]
                      if change else ["", "", "", "", ""])
            writer.writerow([entry["at"].isoformat(), entry["who"], entry["action"],
                             entry["reason"], *values])
    return response


@require_GET
def healthz(request):
    """Liveness for load balancers and compose: 200 when the database answers (a broker, worker
    or beat that is down is reported, not a reason to take the web out of service)."""
    report = {"status": "ok", "database": "ok", "broker": broker_status(celery_app, timeout=1)}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        report.update(liveness())  # worker (per queue) and beat, from their heartbeats
    except Exception:
        unknown = {"seen": None, "ok": None}
        report.update(status="database unavailable", database="unavailable",
                      worker=unknown, beat=unknown)
        return JsonResponse(report, status=503)
    return JsonResponse(report)


@login_required
@require_GET
def workload(request):
    """CRA workload across the trials: for those who manage staff on at least one."""
    if not manages_any_trial(user=request.user):
        raise PermissionDenied
    page = cra_workload(user=request.user, today=timezone.localdate(),
                        page=request.GET.get("page", 1))
    return render(request, "dashboards/workload.html", {"rows": page.object_list, "page": page})
