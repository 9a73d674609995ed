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
    "consent-versions-apply": {
        "task": "sites.tasks.consent_versions_apply",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
    # Imports confirmed while the broker was down (or whose message was lost) are sent again.
    "ctgov-imports-redispatch": {
        "task": "trials.ctgov_imports_redispatch",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
}


def _survive_redis_loss_with_unacked_messages() -> None:
    """Work around a Celery 5.7.0 regression on the Redis broker.

    After losing the broker, the worker's consumer now `collect()`s its connection and then
    `close()`s it (5.6.3 only collected). `collect()` detaches the transport
    (`transport.client = None`) without having closed the channel (its close failed on the
    dead socket), so `close()` closes the channel again and, if the worker holds
    unacknowledged messages (a task running under acks_late, a retry waiting for its
    countdown), tries to restore them through the detached transport: AttributeError
    ("'NoneType' object has no attribute 'hostname'"), which Celery does not expect there,
    and the worker exits with "Unrecoverable error" instead of reconnecting.

    Turned here into the connection error it is, which that path ignores: the worker reconnects.
    The unacknowledged messages are not lost by this: they are still in Redis's unacked set
    (restored after the visibility timeout), and had Redis lost its data they could not have
    been restored anyway (the sweep's re-dispatch of stale reminders covers that case)."""
    from kombu.transport import redis as kombu_redis

    original = kombu_redis.Channel._connparams
    if getattr(original, "croportal_guarded", False):
        return

    def _connparams(self, asynchronous=False):
        if self.connection.client is None:
            raise kombu_redis.redis.exceptions.ConnectionError(
                "the broker connection was closed (lost broker)")
        return original(self, asynchronous=asynchronous)

    _connparams.croportal_guarded = True  # type: ignore[attr-defined]
    kombu_redis.Channel._connparams = _connparams  # type: ignore[method-assign]


_survive_redis_loss_with_unacked_messages()
