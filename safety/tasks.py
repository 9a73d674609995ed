from celery import shared_task
from django.db import OperationalError

from safety.services.trial_settings import dsur_deadlines_sync_all


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True,
             max_retries=5)
def dsur_deadlines_open() -> int:
    """Open each trial's next DSUR deadline as its data lock point comes near (daily)."""
    return dsur_deadlines_sync_all()
