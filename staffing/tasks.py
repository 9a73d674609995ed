from celery import shared_task
from django.db import OperationalError

from staffing import services


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True,
             max_retries=5)
def assignments_apply_dates() -> int:
    """Grant assignments starting today and revoke those that have ended."""
    return services.assignments_apply_dates()
