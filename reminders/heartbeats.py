"""Signs of life of the Celery workers and of beat, kept in the database: the one store every
process shares, on the embedded default too (its locmem cache is per process).

A worker writes its row every WORKER_EVERY_SECONDS from a thread of its main process (started
on `worker_ready`, stopped on `worker_shutdown`, which deletes the row); beat writes its row when
it sends due tasks (at most every BEAT_WRITE_EVERY_SECONDS). Wired in croportal/celery.py;
read by /healthz/ and the pages of jobs that wait for a worker.
"""

import logging
import socket
import threading
import time
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from reminders.models import Heartbeat

logger = logging.getLogger(__name__)

WORKER_EVERY_SECONDS = 30
WORKER_FRESH_SECONDS = 120  # four heartbeats missed: the worker is gone
BEAT_WRITE_EVERY_SECONDS = 15
FORGOTTEN_AFTER = timedelta(days=1)  # rows of workers long gone (old container names)


def heartbeat_record(*, name: str, kind: str, queues: Iterable[str] = (),
                     now: datetime | None = None) -> None:
    """Note that this worker (consuming `queues`) or beat is alive now."""
    now = now or timezone.now()
    Heartbeat.objects.update_or_create(name=name[:255], defaults={
        "kind": kind, "queues": ",".join(sorted(queues))[:1000], "seen_at": now})
    Heartbeat.objects.filter(seen_at__lt=now - FORGOTTEN_AFTER).delete()


def worker_seen_at(*, queue: str | None = None, now: datetime | None = None) -> datetime | None:
    """When a worker consuming `queue` (any queue if None) last gave a sign of life, if it did
    in the last WORKER_FRESH_SECONDS; None when no worker runs for it."""
    now = now or timezone.now()
    fresh = Heartbeat.objects.filter(kind=Heartbeat.Kind.WORKER,
                                     seen_at__gte=now - timedelta(seconds=WORKER_FRESH_SECONDS))
    seen = [row.seen_at for row in fresh.only("queues", "seen_at")
            if queue is None or queue in row.queues.split(",")]
    return max(seen, default=None)


def beat_fresh_seconds() -> float:
    """Beat is gone after missing three runs of its most frequent periodic task."""
    intervals = [entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
                 if isinstance(entry["schedule"], int | float)]
    return 3 * max(min(intervals, default=60.0), BEAT_WRITE_EVERY_SECONDS)


def liveness(*, now: datetime | None = None) -> dict:
    """Worker (per queue) and beat: last seen (ISO 8601 or None) and whether recently."""
    now = now or timezone.now()
    latest = {kind: Heartbeat.objects.filter(kind=kind).order_by("-seen_at")
              .values_list("seen_at", flat=True).first() for kind in Heartbeat.Kind.values}
    queues = {queue: worker_seen_at(queue=queue, now=now) is not None
              for queue in settings.WORKER_QUEUES.values()}
    beat_seen = latest["beat"]
    beat_ok = beat_seen is not None and (
        now - beat_seen <= timedelta(seconds=beat_fresh_seconds()))
    return {
        "worker": {"seen": _iso(latest["worker"]), "ok": all(queues.values()), "queues": queues},
        "beat": {"seen": _iso(latest["beat"]), "ok": beat_ok},
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


class WorkerPulse:
    """The thread of a worker's main process that keeps its heartbeat row fresh."""

    def __init__(self, *, name: str, queues: Iterable[str]) -> None:
        self.name, self.queues = name, sorted(queues)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
        self.failing = False

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        """Stop beating and delete the row: pages know at once that the worker has gone."""
        self.stopping.set()
        self.thread.join(timeout=10)
        _quietly(lambda: Heartbeat.objects.filter(name=self.name).delete(), "forget",
                 close=True)

    def _run(self) -> None:
        while True:
            ok = _quietly(lambda: heartbeat_record(name=self.name, kind=Heartbeat.Kind.WORKER,
                                                   queues=self.queues), "record",
                          warn=not self.failing, close=True)
            self.failing = not ok
            if self.stopping.wait(WORKER_EVERY_SECONDS):
                return


class BeatPulse:
    """Beat's heartbeat, written when it publishes (throttled)."""

    def __init__(self) -> None:
        self.name = f"beat@{socket.gethostname()}"
        self.written = float("-inf")

    def publishing(self) -> None:
        if time.monotonic() - self.written < BEAT_WRITE_EVERY_SECONDS:
            return
        self.written = time.monotonic()
        _quietly(lambda: heartbeat_record(name=self.name, kind=Heartbeat.Kind.BEAT), "record")


def _quietly(action, what: str, *, warn: bool = True, close: bool = False) -> bool:
    """Run a heartbeat write; a database that is down or locked only costs this beat. In a
    worker the connection is closed at once: a pool child forked later must not inherit it."""
    try:
        action()
    except Exception as error:  # the database is down or (SQLite) locked by an import
        if warn:
            logger.warning("heartbeat %s failed: %s: %s", what, type(error).__name__, error)
        return False
    finally:
        if close:
            connection.close()
    return True
