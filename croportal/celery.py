import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "croportal.settings")

app = Celery("croportal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Beat schedule lives in code; each entry expires so a backlog never runs stale sweeps.
app.conf.beat_schedule = {
    "assignments-apply-dates": {
        "task": "staffing.tasks.assignments_apply_dates",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
}
