"""A big list export's pages: its progress (htmx polls the bar) and its file, for the person
who asked for it alone (anyone else: 404)."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.files.storage import storages
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from croportal.lists.exporting import CONTENT_TYPES
from reminders.heartbeats import worker_seen_at
from reminders.models import ExportJob
from reminders.selectors import export_job_of


def _job(request, pk: int) -> ExportJob:
    job = export_job_of(user=request.user, pk=pk)
    if job is None:
        raise Http404
    return job


def _progress(job: ExportJob) -> dict:
    finished = job.state in (ExportJob.State.DONE, ExportJob.State.FAILED)
    no_worker = job.state == ExportJob.State.QUEUED and worker_seen_at(
        queue=settings.WORKER_QUEUES["exports"]) is None
    return {"job": job, "finished": finished, "no_worker": no_worker}


@login_required
@require_GET
def export_job(request, pk: int):
    return render(request, "reminders/export_job.html", _progress(_job(request, pk)))


@login_required
@require_GET
def export_job_bar(request, pk: int):
    return render(request, "reminders/_export_progress.html", _progress(_job(request, pk)))


@login_required
@require_GET
def export_job_file(request, pk: int):
    job = _job(request, pk)
    storage = storages["exports"]
    if job.state != ExportJob.State.DONE or not job.file or not storage.exists(job.file):
        raise Http404("This export has no file (yet, or any more).")
    return FileResponse(storage.open(job.file, "rb"), as_attachment=True,
                        filename=job.filename, content_type=CONTENT_TYPES[job.format])
