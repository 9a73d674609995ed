"""Celery tasks of the reminders engine: the minute sweep, one delivery per claim, digests."""

import logging
import time
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import OperationalError
from django.utils import timezone

from reminders import selectors as exports_selectors
from reminders import services
from reminders.services import exports

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True,
             max_retries=3)
def reminders_sweep() -> int:
    """Claim every due deadline (in batches) and queue one delivery per reminder claimed; then
    queue again the pending reminders whose message may have been lost."""
    started, queued = time.monotonic(), 0
    while True:
        claimed = services.reminders_claim()
        dispatch(claimed)
        queued += len(claimed)
        # A full batch means more may be due; stop before the next sweep would start.
        if len(claimed) < settings.REMINDER_SWEEP_BATCH:
            break
        if time.monotonic() - started > settings.REMINDER_SWEEP_SECONDS * 0.8:
            break
    stale = services.reminders_stale()
    dispatch(stale)
    if queued or stale:
        logger.info("reminder sweep: %s claimed, %s re-dispatched", queued, len(stale))
    return queued


def dispatch(reminder_ids: list[int]) -> None:
    """Publish one delivery per reminder, then note the dispatch. A publish that fails leaves
    the reminder pending: the stale re-dispatch sends it later, so nothing is lost."""
    if not reminder_ids:
        return
    with reminder_deliver.app.producer_or_acquire() as producer:  # one connection for all
        for reminder_id in reminder_ids:
            reminder_deliver.apply_async((reminder_id,), producer=producer)
    if reminder_ids:
        services.reminders_mark_dispatched(reminder_ids=reminder_ids)


@shared_task(bind=True, acks_late=True, max_retries=None)
def reminder_deliver(self, reminder_id: int) -> str:
    """Deliver one reminder (idempotent). An e-mail failure retries with exponential backoff
    (REMINDER_RETRY_BACKOFF_SECONDS x 2^n) and, after REMINDER_MAX_ATTEMPTS, the reminder is
    marked failed and its deadline flagged; the worker is never held while waiting."""
    try:
        return services.reminder_deliver(reminder_id=reminder_id)
    except OperationalError:
        raise self.retry(countdown=_backoff(self.request.retries)) from None
    except Exception as error:
        attempt = self.request.retries + 1
        detail = f"attempt {attempt}: {type(error).__name__}: {error}"
        if attempt >= settings.REMINDER_MAX_ATTEMPTS:
            services.reminder_fail(reminder_id=reminder_id, error=detail)
            return "failed"
        countdown = _backoff(self.request.retries)
        services.reminder_record_error(
            reminder_id=reminder_id, error=detail,
            retry_at=timezone.now() + timedelta(seconds=countdown))
        logger.warning("reminder %s delivery failed (%s); retrying in %s s", reminder_id,
                       detail, countdown)
        raise self.retry(countdown=countdown) from None


def _backoff(retries: int) -> float:
    return settings.REMINDER_RETRY_BACKOFF_SECONDS * (2 ** min(retries, 10))


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True,
             max_retries=3)
def digests_send() -> int:
    return services.digests_send()


# ---- list exports (the `exports` queue: task names ending in `_export`)

PUBLISH_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2,
                 "interval_max": 0.5}


@shared_task(name="reminders.tasks.list_export", acks_late=True)
def list_export(job_id: int) -> str:
    """Write one big list export's file (its job row holds the progress)."""
    return exports.export_run(job_id=job_id).state


@shared_task(name="reminders.tasks.exports_redispatch", acks_late=True,
             autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def exports_redispatch() -> int:
    """Publish again the exports no worker has taken (beat, every minute), and remove the
    files past EXPORT_KEEP_HOURS."""
    exports.exports_purge()
    return exports_dispatch(exports_selectors.export_jobs_stale())


def exports_dispatch(job_ids: list[int]) -> int:
    """Publish one message per export job; a broker that cannot be reached is logged, never
    raised (this runs after a request's commit): the re-dispatch sends it later."""
    if not job_ids:
        return 0
    try:
        with list_export.app.producer_or_acquire() as producer:
            for job_id in job_ids:
                list_export.apply_async((job_id,), producer=producer, retry_policy=PUBLISH_RETRY)
    except Exception:  # any broker failure: the row keeps the job
        logger.exception("could not publish exports %s; they stay queued", job_ids)
        return 0
    exports.export_jobs_mark_dispatched(job_ids=job_ids)
    return len(job_ids)
