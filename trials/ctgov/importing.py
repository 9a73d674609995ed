"""Creating a trial from a ClinicalTrials.gov record: preview, confirm, then the import itself
(in Celery, or in-process from `manage.py import_ctgov`).

The import is all or nothing: the trial, its milestones and every site are written in one
transaction, so a failure half-way leaves no trace but the job marked failed. To let the
progress page move while that transaction is open, progress is written on PostgreSQL to the
job's row through a second, autocommit connection. SQLite has one writer at a time (the import's
own transaction), so on the embedded default progress goes to a small file in VAR_DIR, which
the web process reads too (the embedded default is one machine); see `Progress`.
"""

import hashlib
import json
import logging
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connections, transaction
from django.db.models import Q
from django.utils import timezone

from croportal.exceptions import ApplicationError
from staffing.models import Organisation, User
from trials.ctgov import CtgovError, CtgovRecord, Location, parse_record
from trials.ctgov.selectors import abandoned_before
from trials.models import CtgovImport, MilestoneKind, Phase, Trial
from trials.services import milestone_create, trial_create

logger = logging.getLogger(__name__)

State = CtgovImport.State
# Registry date → milestone: the study start is the first participant's enrollment, the
# completion date the last participant's last visit (ClinicalTrials.gov data element
# definitions); the primary completion has no kind of its own.
MILESTONES = (
    ("start_date", MilestoneKind.FPI, ""),
    ("primary_completion_date", MilestoneKind.OTHER, "Primary completion"),
    ("completion_date", MilestoneKind.LPO, ""),
)


# Who writes the sites of an imported record: the sites app registers itself when it starts
# (trials sits below sites and does not import it).
_SITE_WRITER: Callable[..., None] | None = None


def register_site_writer(writer: Callable[..., None]) -> None:
    global _SITE_WRITER
    _SITE_WRITER = writer


def ctgov_preview(*, data: bytes, filename: str, by: User) -> CtgovImport:
    """Read an uploaded record and keep it for its uploader to check before importing."""
    try:
        record = parse_record(data, filename)
    except CtgovError as error:
        raise ApplicationError(error.message, field="file") from None
    _refuse_known(record.nct_id, field="file")
    return CtgovImport.objects.create(
        created_by=by, filename=filename[:255], nct_id=record.nct_id, record=record.to_dict(),
        total=len(record.importable_locations),
    )


@transaction.atomic
def ctgov_confirm(*, job: CtgovImport, by: User, sponsor: Organisation | None,
                  sponsor_name: str = "", phase: str | None, enqueue: bool = True
                  ) -> CtgovImport:
    """Accept a previewed record with its sponsor and phase, and queue its import."""
    job = CtgovImport.objects.select_for_update().get(pk=job.pk)
    if job.created_by_id != by.pk and not by.is_superuser:
        raise ApplicationError("Only the person who uploaded the record can confirm it.",
                               status=403)
    if job.state != State.PREVIEW:
        raise ApplicationError("This import has already been confirmed.")
    record = CtgovRecord.from_dict(job.record)
    _refuse_known(record.nct_id, field=None)
    phase = phase or record.phase
    if phase not in Phase.values:
        raise ApplicationError("The registry gives no phase for this study: choose one.",
                               field="phase")
    job.sponsor = _sponsor_for(sponsor, sponsor_name)
    job.record = {**job.record, "phase": phase}  # the registry's own words stay in phase_raw
    job.state, job.dispatched_at = State.QUEUED, None
    job.save(update_fields=["sponsor", "record", "state", "dispatched_at", "updated_at"])
    if enqueue:
        from trials.tasks import dispatch  # the task module imports this one

        # The job row is the outbox: published after the commit, never mid-transaction, and
        # a broker that is down only delays it (dispatch logs; the re-dispatch sends it).
        transaction.on_commit(lambda: dispatch([job.pk]))
    return job


def ctgov_imports_mark_dispatched(job_ids: list[int], *, now: datetime | None = None) -> None:
    """Note that these imports' messages reached the broker."""
    CtgovImport.objects.filter(pk__in=job_ids, state__in=(State.QUEUED, State.RUNNING)).update(
        dispatched_at=now or timezone.now())


def ctgov_run(*, job_id: int) -> Trial | None:
    """Import a confirmed record: trial, milestones, sites, all or nothing. A failure is final
    (the job is marked failed with the reason); a job already imported is left alone."""
    job = _claim(job_id)
    if job is None:
        return CtgovImport.objects.get(pk=job_id).trial
    progress = Progress(job_id)
    try:
        with transaction.atomic():
            trial = _import(job, progress)
    except Exception as error:  # everything was rolled back; say why on the job
        _fail(job, error)
        return None
    finally:
        progress.close()
    return trial


# ------------------------------------------------------------------------------- internals

def _refuse_known(nct_id: str, *, field: str | None) -> None:
    protocol = Trial.objects.filter(nct_id=nct_id).values_list("protocol_number", flat=True)
    if existing := protocol.first():
        raise ApplicationError(f"{nct_id} is already in the portal as trial {existing}.",
                               field=field)


def _sponsor_for(sponsor: Organisation | None, name: str) -> Organisation:
    """The chosen sponsor, or the sponsor of that name (case aside), created if new."""
    if sponsor is not None:
        if sponsor.kind != Organisation.Kind.SPONSOR:
            raise ApplicationError("The sponsor must be a sponsor organisation.",
                                   field="sponsor")
        return sponsor
    name = " ".join((name or "").split())
    if not name:
        raise ApplicationError("Choose the sponsor, or give the name of a new one.",
                               field="sponsor_name")
    if len(name) > 200:
        raise ApplicationError("A sponsor's name has at most 200 characters.",
                               field="sponsor_name")
    existing = Organisation.objects.filter(name__iexact=name).first()
    if existing is None:
        return Organisation.objects.create(name=name, kind=Organisation.Kind.SPONSOR)
    if existing.kind != Organisation.Kind.SPONSOR:
        raise ApplicationError(
            f"“{existing.name}” is a {existing.get_kind_display().lower()} in the portal, not "
            "a sponsor: choose another sponsor.", field="sponsor_name")
    return existing


def _claim(job_id: int) -> CtgovImport | None:
    """Take a queued job, or one whose worker died mid-import, with one conditional UPDATE:
    of two deliveries of the same message (a re-dispatch, a redelivery) only one runs."""
    now = timezone.now()
    claimable = Q(state=State.QUEUED) | Q(state=State.RUNNING) & (
        Q(claimed_at__isnull=True) | Q(claimed_at__lte=abandoned_before(now=now)))
    claimed = CtgovImport.objects.filter(claimable, pk=job_id).update(
        state=State.RUNNING, done=0, error="", claimed_at=now, updated_at=now)
    return CtgovImport.objects.get(pk=job_id) if claimed else None


def _import(job: CtgovImport, progress: "Progress") -> Trial:
    record = CtgovRecord.from_dict(job.record)
    by = job.created_by
    _refuse_known(record.nct_id, field=None)
    trial = trial_create(
        by=by, protocol_number=_protocol_number(record), title=record.title,
        sponsor=job.sponsor, phase=record.phase, status=record.status,
        indication=record.indication, investigational_product=record.investigational_product,
        target_enrollment=record.enrollment or 0, nct_id=record.nct_id,
    )
    reason = f"Imported from ClinicalTrials.gov {record.nct_id}"
    _create_milestones(trial, record, by=by, reason=reason)
    _create_sites(trial, record.importable_locations, by=by, reason=reason, progress=progress)
    job.state, job.trial, job.done = State.DONE, trial, job.total
    job.save(update_fields=["state", "trial", "done", "updated_at"])
    return trial


def _protocol_number(record: CtgovRecord) -> str:
    """The sponsor's own study id when it fits and is free, else the NCT ID."""
    candidates = [record.org_study_id] if 0 < len(record.org_study_id) <= 50 else []
    candidates.append(record.nct_id)
    taken = set(Trial.objects.filter(protocol_number__in=candidates)
                .values_list("protocol_number", flat=True))
    for candidate in candidates:
        if candidate not in taken:
            return candidate
    raise ApplicationError(f"The protocol number {' and '.join(candidates)} is already used "
                           "by another trial.")


def _create_milestones(trial: Trial, record: CtgovRecord, *, by: User, reason: str) -> None:
    today = timezone.localdate()
    for attribute, kind, name in MILESTONES:
        when = getattr(record, attribute)
        if when is None:
            continue
        # Through the service: a planned date not yet reached becomes the CRM's deadline.
        milestone_create(
            trial=trial, by=by, reason=reason, kind=kind, name=name, baseline_date=when.value,
            planned_date=when.value,
            actual_date=when.value if when.actual and when.value <= today else None,
        )


def _create_sites(trial: Trial, locations: list[Location], *, by: User, reason: str,
                  progress: "Progress") -> None:
    """The record's locations become the trial's sites, written by the sites app."""
    if _SITE_WRITER is None:
        raise ImproperlyConfigured("The sites app has not registered its registry site writer.")
    _SITE_WRITER(trial=trial, locations=locations, by=by, reason=reason, report=progress.report)


def _fail(job: CtgovImport, error: Exception) -> None:
    if isinstance(error, ApplicationError):
        message = error.message
    elif isinstance(error, IntegrityError) and (
            existing := Trial.objects.filter(nct_id=job.nct_id).first()):
        message = (f"{job.nct_id} was imported at the same time by another upload, as trial "
                   f"{existing.protocol_number}; nothing was created by this one.")
    else:
        message = f"The import failed and nothing was created ({type(error).__name__}: {error})."
        logger.error("import of %s (job %s) failed", job.nct_id, job.pk, exc_info=error)
    # Never overwrite a success: a duplicate delivery of the task may lose the race.
    CtgovImport.objects.filter(pk=job.pk).exclude(state=State.DONE).update(
        state=State.FAILED, error=message, done=0, updated_at=timezone.now())


def ctgov_progress_done(job: CtgovImport) -> int:
    """Sites written so far by a job's import, as far as another process can tell."""
    if job.state != State.RUNNING or connections["default"].vendor == "postgresql":
        return job.done
    try:
        reported = json.loads(_progress_file(job.pk).read_text())["done"]
    except (OSError, ValueError, KeyError, TypeError):  # not started, or just finished
        return job.done
    return max(job.done, min(int(reported), job.total))


def _progress_file(job_id: int) -> Path:
    """Per database (tests and `make run` may share VAR_DIR) and per job."""
    database = hashlib.sha256(str(connections["default"].settings_dict["NAME"]).encode())
    name = f"ctgov-import-{database.hexdigest()[:12]}-{job_id}.json"
    return Path(settings.VAR_DIR) / "progress" / name


class Progress:
    """Writes an import's progress where the progress page can see it before the commit: the
    job's row on PostgreSQL, through a second (autocommit) connection; on SQLite, whose single
    writer is the import's transaction, a file that `ctgov_progress_done` reads."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.connection = None
        self.file: Path | None = None
        if connections["default"].vendor == "postgresql":
            self.connection = connections.create_connection("default")  # autocommit
        else:
            self.file = _progress_file(job_id)

    def report(self, done: int) -> None:
        if self.connection is not None:
            with self.connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {CtgovImport._meta.db_table} SET done = %s, state = %s "  # noqa: S608
                    "WHERE id = %s AND state IN (%s, %s)",
                    [done, State.RUNNING, self.job_id, State.QUEUED, State.RUNNING],
                )
        elif self.file is not None:
            self._report_to_file(self.file, done)

    def _report_to_file(self, file: Path, done: int) -> None:
        partial = file.with_suffix(".partial")
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            partial.write_text(json.dumps({"done": done}))
            os.replace(partial, file)  # a reader never sees half a file
        except OSError as error:  # only the progress bar stands still: the import goes on
            logger.warning("progress of import %s not written: %s", self.job_id, error)

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
        if self.file is not None:
            self.file.unlink(missing_ok=True)
