"""Celery tasks of the ClinicalTrials.gov import: the import itself, and the re-dispatch of
imports whose message never reached a worker (the outbox of README: Redis down)."""

import logging

from celery import shared_task
from django.db import OperationalError

from trials.ctgov import importing as ctgov_import
from trials.ctgov import selectors as ctgov_selectors

logger = logging.getLogger(__name__)

# A web request must not wait on a dead broker: one quick retry, then the re-dispatch's turn.
PUBLISH_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2,
                 "interval_max": 0.2}


@shared_task(name="trials.ctgov_import_run", acks_late=True,
             autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def ctgov_import_run(job_id: int) -> str:
    """Import a confirmed ClinicalTrials.gov record. A failed import is final (the job says
    why); only an unreachable database before the import starts is retried."""
    trial = ctgov_import.ctgov_run(job_id=job_id)
    return f"trial {trial.pk}" if trial else "nothing imported"


@shared_task(name="trials.ctgov_imports_redispatch", acks_late=True,
             autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def ctgov_imports_redispatch() -> int:
    """Publish again the imports that no worker has taken (run by beat every minute)."""
    stale = ctgov_selectors.ctgov_imports_stale()
    if stale:
        logger.info("ClinicalTrials.gov imports re-dispatched: %s", stale)
    return dispatch(stale)


def dispatch(job_ids: list[int]) -> int:
    """Publish one import message per job, then note the dispatch; returns how many went out.
    A broker that cannot be reached is logged, never raised (this runs after the confirm's
    commit, inside a web request): the job stays undispatched and the re-dispatch sends it."""
    if not job_ids:
        return 0
    try:
        with ctgov_import_run.app.producer_or_acquire() as producer:
            for job_id in job_ids:
                ctgov_import_run.apply_async((job_id,), producer=producer,
                                             retry_policy=PUBLISH_RETRY)
    except Exception:  # any broker failure (connection, timeout, auth): the row keeps the job
        logger.exception("could not publish ClinicalTrials.gov imports %s; they stay queued "
                         "and are published again once the broker answers", job_ids)
        return 0
    ctgov_import.ctgov_imports_mark_dispatched(job_ids)
    return len(job_ids)
