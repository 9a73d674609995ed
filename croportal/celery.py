import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "croportal.settings")

app = Celery("croportal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Beat schedule lives in code; each entry expires so a backlog never runs stale sweeps.
from django.conf import settings  # noqa: E402  (after the settings module is named)

app.conf.beat_schedule = {
    "reminders-sweep": {
        "task": "reminders.tasks.reminders_sweep",
        "schedule": float(settings.REMINDER_SWEEP_SECONDS),
        "options": {"expires": float(settings.REMINDER_SWEEP_SECONDS)},
    },
    "digests-send": {
        "task": "reminders.tasks.digests_send",
        "schedule": 900.0,
        "options": {"expires": 840},
    },
    "assignments-apply-dates": {
        "task": "staffing.tasks.assignments_apply_dates",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
}
