"""A real Celery worker and a real beat (Redis broker, PostgreSQL) leave heartbeats that
/healthz/ reads: the worker with the queues it consumes, beat from its start; a worker's warm
shutdown removes its row at once."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.test import Client

from reminders.models import Heartbeat
from tests.integration import test_celery_worker as plain_worker
from tests.integration.queues import new_prefix, private_queues, worker_queue_args
from tests.integration.test_celery_worker import (
    REPO,
    WORKER_ARGS,
    _forget_queue,
    stop,
    worker_database_env,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

committed_world = plain_worker.committed_world
broker_url = plain_worker.broker_url
TIMEOUT = 45.0


def start(argv: list[str], *, env: dict, log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "celery", *argv], cwd=REPO, env=env,
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def until(condition, *, process: subprocess.Popen, log: Path, what: str) -> None:
    limit = time.monotonic() + TIMEOUT
    while not condition():
        if process.poll() is not None:
            pytest.fail(f"{what}: the process exited with {process.returncode}:\n"
                        f"{log.read_text()}")
        if time.monotonic() > limit:
            pytest.fail(f"no {what} after {TIMEOUT:.0f} s:\n{log.read_text()}")
        time.sleep(0.1)


def test_a_real_worker_and_beat_show_on_healthz(committed_world, broker_url, tmp_path,
                                                settings):
    prefix = new_prefix("heartbeat")
    queues = private_queues(prefix)
    settings.WORKER_QUEUES = dict(zip(settings.WORKER_QUEUES, queues, strict=True))
    env = {**os.environ, **worker_database_env(), "REDIS_URL": broker_url,
           "CELERY_QUEUE_PREFIX": prefix, "DJANGO_SETTINGS_MODULE": "croportal.settings"}
    worker_log, beat_log = tmp_path / "worker.log", tmp_path / "beat.log"
    worker = start([*WORKER_ARGS.split(), *worker_queue_args(prefix)], env=env, log=worker_log)
    beat = start(["-A", "croportal", "beat", "-l", "info", "-S", "django",
                  "--pidfile", str(tmp_path / "beat.pid")], env=env, log=beat_log)
    try:
        workers = Heartbeat.objects.filter(kind="worker", name__startswith=prefix)
        until(workers.exists, process=worker, log=worker_log, what="worker heartbeat")
        until(Heartbeat.objects.filter(kind="beat").exists, process=beat, log=beat_log,
              what="beat heartbeat")
        assert sorted(workers.get().queues.split(",")) == sorted(queues)
        health = Client().get("/healthz/").json()
        assert (health["database"], health["broker"]) == ("ok", "ok")
        assert health["worker"]["ok"] is True, health
        assert health["worker"]["queues"] == dict.fromkeys(queues, True)
        assert health["beat"]["ok"] is True, health
    finally:
        stop(beat)
        stop(worker)
        _forget_queue(broker_url, prefix)
    assert worker.returncode == 0, worker_log.read_text()
    assert not workers.exists()  # a warm shutdown forgets the worker at once
    assert Client().get("/healthz/").json()["worker"]["ok"] is False
