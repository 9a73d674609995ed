"""Big list exports as background jobs (the `exports` queue), with progress and a download.

A request that asks for more than EXPORT_SYNC_MAX_ROWS rows gets a job instead of a file
(`croportal.lists.views.big_export` is `export_job_start`, set when this app starts). The worker
selects the rows again as the job's owner sees them at that moment — the same spec, URL
arguments and query, the owner's time zone — so the file holds exactly what the page would.
"""

import logging
import tempfile
from datetime import timedelta

from django.conf import settings
from django.core.files import File
from django.core.files.storage import storages
from django.db import transaction
from django.db.models import F
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from croportal.lists import exporting, ordered_rows, selected_rows
from croportal.lists.views import export_filename
from reminders.models import ExportJob, Notification

logger = logging.getLogger(__name__)
State = ExportJob.State


def export_job_start(*, request, spec, url_kwargs: dict, export: str) -> str:
    """The hook croportal.lists calls for a big export: a queued job; its progress page."""
    params = request.GET.copy()
    for name in ("page", "export"):
        params.pop(name, None)
    job = export_job_create(by=request.user, spec_key=spec.key, title=spec.title,
                            url_kwargs=url_kwargs, query=params.urlencode(), export=export,
                            zone=timezone.get_current_timezone_name())
    return reverse("reminders:export_job", args=[job.pk])


@transaction.atomic
def export_job_create(*, by, spec_key: str, title: str, url_kwargs: dict, query: str,
                      export: str, zone: str) -> ExportJob:
    job = ExportJob.objects.create(created_by=by, spec=spec_key, title=title[:200],
                                   url_kwargs=url_kwargs, query=query[:2000], format=export,
                                   timezone=zone)
    from reminders.tasks import exports_dispatch  # the task module imports this one

    transaction.on_commit(lambda: exports_dispatch([job.pk]))
    return job


def export_jobs_mark_dispatched(*, job_ids: list[int]) -> None:
    ExportJob.objects.filter(pk__in=job_ids).update(dispatched_at=timezone.now())


def export_run(*, job_id: int) -> ExportJob:
    """Write the job's file; a failure is final and says why on the job."""
    claimed = ExportJob.objects.filter(pk=job_id, state=State.QUEUED).update(
        state=State.RUNNING)
    job = ExportJob.objects.select_related("created_by").get(pk=job_id)
    if not claimed:  # taken by another delivery of the same message, or finished
        return job
    try:
        with timezone.override(job.timezone):
            name, filename = _write(job)
    except Exception as error:  # the file is not there; say why, never retry a bad query
        logger.exception("export %s failed", job_id)
        ExportJob.objects.filter(pk=job_id).update(
            state=State.FAILED, error=str(error)[:500], finished_at=timezone.now())
    else:
        ExportJob.objects.filter(pk=job_id).update(
            state=State.DONE, file=name, filename=filename, done=F("total"),
            finished_at=timezone.now())
        # The bell tells its owner, who may have left the progress page.
        Notification.objects.create(
            user=job.created_by, kind="export", message=f"Your export is ready: {job.title}",
            url=reverse("reminders:export_job", args=[job.pk]))
    job.refresh_from_db()
    return job


def exports_purge(*, now=None) -> int:
    """Remove finished files older than EXPORT_KEEP_HOURS (their rows stay, file-less)."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.EXPORT_KEEP_HOURS)
    old = ExportJob.objects.filter(finished_at__lt=cutoff).exclude(file="")
    storage = storages["exports"]
    count = 0
    for job in old:
        storage.delete(job.file)
        ExportJob.objects.filter(pk=job.pk).update(file="")
        count += 1
    return count


def _write(job: ExportJob) -> tuple[str, str]:
    spec = import_string(job.spec)
    _, rows = selected_rows(spec, user=job.created_by, params=QueryDict(job.query),
                            url_kwargs=job.url_kwargs)
    table = ordered_rows(spec, rows, sort=QueryDict(job.query).get("sort"))
    ExportJob.objects.filter(pk=job.pk).update(total=table.data.data.count())

    def progress(count: int) -> None:
        ExportJob.objects.filter(pk=job.pk).update(done=count)

    filename = export_filename(spec, job.format)
    if job.format == "xlsx":
        content = exporting.xlsx_file(table, title=spec.title, progress=progress)
    else:
        content = tempfile.TemporaryFile()  # noqa: SIM115 (closed below)
        for text in exporting.csv_lines(table, progress=progress):
            content.write(text.encode("utf-8"))
        content.seek(0)
    with content:
        name = storages["exports"].save(f"job-{job.pk}/{filename}", File(content))
    return name, filename
