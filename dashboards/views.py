from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from croportal.csv_safe import csv_writer
from dashboards.selectors import audit_record_for, audit_trail_of, home_for, signatures_of
from trials.selectors import user_can_create_trials


@login_required
def home(request):
    return render(request, "dashboards/home.html", {
        **home_for(user=request.user),
        "can_create_trial": user_can_create_trials(user=request.user),
    })


def _audited_record(request, kind: str, pk: int):
    record = audit_record_for(user=request.user, kind=kind, pk=pk)
    if record is None:
        raise Http404("No such record")
    return record


@login_required
def audit_trail(request, kind: str, pk: int):
    record = _audited_record(request, kind, pk)
    return render(request, "dashboards/audit_trail.html", {
        "record": record, "kind": kind, "entries": audit_trail_of(record),
        "signatures": signatures_of(record),
    })


@login_required
def audit_trail_csv(request, kind: str, pk: int):
    record = _audited_record(request, kind, pk)
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="audit-{kind}-{pk}.csv"'
    writer = csv_writer(response)
    writer.writerow(["at_utc", "who", "action", "reason", "field", "old", "new"])
    for entry in audit_trail_of(record):
        for field, old, new in entry["changes"] or [("", "", "")]:
            writer.writerow([entry["at"].isoformat(), entry["who"], entry["action"],
                             entry["reason"], field, old, new])
    return response


@require_GET
def healthz(request):
    """Liveness for load balancers and compose: 200 when the database answers."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return JsonResponse({"status": "database unavailable"}, status=503)
    return JsonResponse({"status": "ok"})
