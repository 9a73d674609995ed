"""The periodic tasks are declared once, CELERY_BEAT_SCHEDULE in settings: after migrate
django-celery-beat's rows (which beat's DatabaseScheduler runs) are exactly that dict, beat's
own start-up keeps them so (expiry included), and the Celery app reads the same dict."""

from datetime import timedelta

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.db.models.signals import post_migrate
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from django_celery_beat.schedulers import ModelEntry

from croportal.celery import app
from reminders.schedule import DECLARED, beat_schedule_sync

pytestmark = pytest.mark.django_db


def rows() -> dict:
    return {
        task.name: {"task": task.task, "seconds": task.interval.schedule.run_every,
                    "expire_seconds": task.expire_seconds, "enabled": task.enabled,
                    "queue": task.queue, "args": task.args, "kwargs": task.kwargs}
        for task in PeriodicTask.objects.filter(description=DECLARED).select_related("interval")
    }


def declared() -> dict:
    return {
        name: {"task": entry["task"], "seconds": timedelta(seconds=entry["schedule"]),
               "expire_seconds": entry["options"]["expire_seconds"], "enabled": True,
               "queue": None, "args": "[]", "kwargs": "{}"}  # routed by task name, not here
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
    }


def test_after_migrate_the_database_rows_are_the_declared_schedule():
    assert set(settings.CELERY_BEAT_SCHEDULE) >= {"reminders-sweep", "ctgov-imports-redispatch"}
    assert rows() == declared()
    # Nothing else scheduled: the declaration is the whole schedule.
    assert set(PeriodicTask.objects.values_list("name", flat=True)) == set(declared())


def test_the_celery_app_reads_the_same_declaration():
    assert app.conf.beat_schedule == settings.CELERY_BEAT_SCHEDULE


def test_beat_starting_up_keeps_the_rows_as_declared():
    # What beat's DatabaseScheduler does with app.conf.beat_schedule when it starts
    # (update_from_dict), without the reconnects that a test transaction cannot take.
    for name, entry in app.conf.beat_schedule.items():
        ModelEntry.from_entry(name, app=app, **entry)
    assert rows() == declared()
    assert all(row["expire_seconds"] for row in rows().values())  # every run expires


def test_a_dropped_entry_is_removed_and_a_hand_made_task_is_kept(monkeypatch):
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=60, period="seconds")
    PeriodicTask.objects.create(name="old-sweep", task="reminders.tasks.gone",
                                interval=every_minute, description=DECLARED)
    PeriodicTask.objects.create(name="admin-made", task="reminders.tasks.digests_send",
                                interval=every_minute, description="Added in the admin")
    PeriodicTask.objects.filter(name="digests-send").update(expire_seconds=None, enabled=False)
    assert beat_schedule_sync() == ["old-sweep"]
    assert rows() == declared()
    assert PeriodicTask.objects.filter(name="admin-made").exists()


def test_a_changed_declaration_reaches_the_rows_at_the_next_migrate(settings):
    settings.CELERY_BEAT_SCHEDULE = {
        **settings.CELERY_BEAT_SCHEDULE,
        "digests-send": {"task": "reminders.tasks.digests_send", "schedule": 600.0,
                         "options": {"expire_seconds": 540}},
    }
    # What `migrate` sends to the reminders app when it is done, even with nothing to migrate
    # (the command itself would log in as the owner role, which a test transaction cannot).
    config = django_apps.get_app_config("reminders")
    post_migrate.send(sender=config, app_config=config, verbosity=0, interactive=False,
                      using="default", apps=django_apps, plan=[])
    digest = PeriodicTask.objects.select_related("interval").get(name="digests-send")
    assert (digest.interval.every, digest.interval.period, digest.expire_seconds) == (
        600, "seconds", 540)
    assert rows() == declared()
