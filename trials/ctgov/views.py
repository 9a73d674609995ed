"""Pages of the ClinicalTrials.gov import: upload → preview and confirm → progress."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from access.checks import may_create_trials
from croportal.exceptions import ApplicationError
from croportal.forms import form_error_from
from croportal.lists import list_page
from reminders.heartbeats import worker_seen_at
from trials.ctgov import CtgovRecord, selectors
from trials.ctgov import importing as services
from trials.ctgov.forms import CtgovConfirmForm, CtgovUploadForm
from trials.ctgov.lists import CTGOV_IMPORTS
from trials.models import CtgovImport, TrialStatus

PREVIEW_ROWS = 50
State = CtgovImport.State


def _job_for(request, pk: int) -> CtgovImport:
    """The user's own import (404 otherwise), once we know they may create trials (403)."""
    if not may_create_trials(user=request.user):
        raise PermissionDenied
    jobs = selectors.ctgov_imports_visible_to(user=request.user)
    return get_object_or_404(jobs.select_related("sponsor", "trial"), pk=pk)


@login_required
def ctgov_upload(request):
    if not may_create_trials(user=request.user):
        raise PermissionDenied
    form = CtgovUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = services.ctgov_preview(data=upload.read(), filename=upload.name, by=request.user)
        except ApplicationError as error:
            form_error_from(form, error)
        else:
            return redirect("ctgov:preview", pk=job.pk)
    recent = selectors.ctgov_imports_visible_to(user=request.user).filter(created_by=request.user)
    return render(request, "trials/ctgov_upload.html", {
        "form": form, "recent": recent.select_related("trial")[:10],
    })


@login_required
@require_GET
def ctgov_history(request):
    """Past imports: file, NCT ID, state, sites, who, when, and the trial each made."""
    if not may_create_trials(user=request.user):
        raise PermissionDenied
    return list_page(request, CTGOV_IMPORTS, template="trials/ctgov_history.html")


@login_required
def ctgov_preview(request, pk: int):
    job = _job_for(request, pk)
    if job.state != State.PREVIEW:
        return redirect("ctgov:progress", pk=job.pk)
    record = CtgovRecord.from_dict(job.record)
    form = CtgovConfirmForm(request.POST or None, record=record)
    if request.method == "POST" and form.is_valid():
        try:
            services.ctgov_confirm(job=job, by=request.user, **form.cleaned_data)
        except ApplicationError as error:
            form_error_from(form, error)
        else:
            messages.success(request, f"Importing {job.nct_id}.")
            return redirect("ctgov:progress", pk=job.pk)
    return render(request, "trials/ctgov_preview.html", {
        "job": job, "record": record, "form": form, "milestones": _milestones(record),
        "status_label": TrialStatus(record.status).label,
        "locations": record.locations[:PREVIEW_ROWS],
        "more_locations": max(0, len(record.locations) - PREVIEW_ROWS),
        "skipped": len(record.skipped_locations),
    })


@login_required
@require_GET
def ctgov_progress(request, pk: int):
    job = _job_for(request, pk)
    if job.state == State.PREVIEW:
        return redirect("ctgov:preview", pk=job.pk)
    return render(request, "trials/ctgov_progress.html", _progress(job))


@login_required
@require_GET
def ctgov_progress_bar(request, pk: int):
    """The progress bar alone (htmx polls it every second until the import ends)."""
    return render(request, "trials/_ctgov_progress.html", _progress(_job_for(request, pk)))


def _progress(job: CtgovImport) -> dict:
    done = job.total if job.state == State.DONE else services.ctgov_progress_done(job)
    if job.state == State.DONE:
        percent = 100
    else:
        percent = 100 * min(done, job.total) // job.total if job.total else 0
    # Queued and no worker on the imports queue lately: say so, not "Queued 0%" for ever.
    no_worker = job.state == State.QUEUED and worker_seen_at(
        queue=settings.WORKER_QUEUES["imports"]) is None
    return {"job": job, "done": done, "percent": percent, "no_worker": no_worker,
            "finished": job.state in (State.DONE, State.FAILED),
            "started": done > 0 or job.state == State.DONE}


def _milestones(record: CtgovRecord) -> list[dict]:
    rows = []
    for label, when in (("First patient in (study start)", record.start_date),
                        ("Primary completion", record.primary_completion_date),
                        ("Last patient out (study completion)", record.completion_date)):
        if when is not None:
            rows.append({"label": label, "date": when.value, "actual": when.actual,
                         "month_only": when.precision == "month"})
    return rows
