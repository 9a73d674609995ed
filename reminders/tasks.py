"""Celery tasks of the reminders engine: the minute sweep, one delivery per claim, digests."""

import logging
import time
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import OperationalError
from django.utils import timezone

from reminders import services

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
