from celery import shared_task
from django.db import OperationalError

from trials import ctgov_import


@shared_task(name="trials.ctgov_import_run", acks_late=True,
             autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def ctgov_import_run(job_id: int) -> str:
    """Import a confirmed ClinicalTrials.gov record. A failed import is final (the job says
    why); only an unreachable database before the import starts is retried."""
    trial = ctgov_import.ctgov_run(job_id=job_id)
    return f"trial {trial.pk}" if trial else "nothing imported"
