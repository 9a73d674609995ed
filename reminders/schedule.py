"""django-celery-beat's table made to match CELERY_BEAT_SCHEDULE (settings), the one
declaration of the periodic tasks, after every migrate: beat's DatabaseScheduler reads the rows.

Rows written from the settings carry DECLARED in their description; one of them no longer
declared is deleted (a renamed or dropped task does not run on), while tasks an administrator
added by hand in the admin are left alone.
"""

from django.conf import settings
from django.db import transaction

DECLARED = "Declared in CELERY_BEAT_SCHEDULE (croportal/settings.py); migrate rewrites it."


@transaction.atomic
def beat_schedule_sync(*, schedule: dict | None = None) -> list[str]:
    """Write the declared periodic tasks to the database; return the names of those removed."""
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import ModelEntry

    from croportal.celery import app

    schedule = settings.CELERY_BEAT_SCHEDULE if schedule is None else schedule
    for name, entry in schedule.items():
        # django-celery-beat's own conversion, as beat applies it to app.conf.beat_schedule
        # (saved: its signals tell a running beat that the schedule changed).
        ModelEntry.from_entry(name, app=app, description=DECLARED, enabled=True, **entry)
    gone = PeriodicTask.objects.filter(description=DECLARED).exclude(name__in=list(schedule))
    removed = list(gone.values_list("name", flat=True))
    for task in gone:
        task.delete()  # one by one: django-celery-beat's signals tell a running beat
    return removed


def beat_schedule_sync_after_migrate(sender, *, using: str = "default", **kwargs) -> None:
    """post_migrate receiver (RemindersConfig): once per migrate, on the default database,
    once django-celery-beat's tables exist (`migrate <app>` may not have made them)."""
    from django.db import connections
    from django_celery_beat.models import PeriodicTask

    if using != "default":
        return
    if PeriodicTask._meta.db_table in connections[using].introspection.table_names():
        beat_schedule_sync()
