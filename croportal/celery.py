import os

from celery import Celery, signals

from croportal.broker import broker_folders_make

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "croportal.settings")

app = Celery("croportal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The beat schedule is CELERY_BEAT_SCHEDULE in settings (app.conf.beat_schedule here); migrate
# writes it to django-celery-beat's table (reminders/schedule.py).


@signals.worker_init.connect
def _broker_folders_for_the_worker(sender, **kwargs) -> None:
    """Before the worker consumes: the embedded default's broker folders (croportal/broker.py)."""
    broker_folders_make(app)


@signals.before_task_publish.connect
def _broker_folders_for_a_publish(**kwargs) -> None:
    broker_folders_make(app)


@signals.worker_ready.connect
def _worker_heartbeat_start(sender, **kwargs) -> None:
    """The worker's heartbeat, naming the queues it consumes (reminders/heartbeats.py)."""
    from reminders.heartbeats import WorkerPulse

    queues = list(sender.app.amqp.queues.consume_from)
    _pulses["worker"] = WorkerPulse(name=sender.hostname, queues=queues)
    _pulses["worker"].start()


@signals.worker_shutdown.connect
def _worker_heartbeat_stop(sender, **kwargs) -> None:
    if "worker" in _pulses:
        _pulses.pop("worker").stop()


@signals.beat_init.connect
def _beat_heartbeat_start(sender, **kwargs) -> None:
    """Beat's heartbeat: noted at start and each time it publishes (reminders/heartbeats.py)."""
    from reminders.heartbeats import BeatPulse

    _pulses["beat"] = BeatPulse()
    _pulses["beat"].publishing()


@signals.after_task_publish.connect
def _beat_heartbeat_on_publish(**kwargs) -> None:
    if "beat" in _pulses:  # only in beat's own process
        _pulses["beat"].publishing()


_pulses: dict = {}  # this process's heartbeats: "worker" in a worker, "beat" in beat


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
