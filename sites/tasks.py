from celery import shared_task
from django.db import OperationalError

from sites import services


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True,
             max_retries=5)
def consent_versions_apply() -> int:
    """ICF versions that have become effective at a site open their re-consent deadlines."""
    return services.consent_versions_apply()
