"""An import confirmed while the broker is unreachable is not lost: a real Celery worker
(Redis broker, PostgreSQL) imports it once the re-dispatch publishes it."""

import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.integration import test_celery_worker as plain_worker
from tests.integration.queues import new_prefix, publish_to_private_queues, worker_queue_args
from tests.integration.test_celery_worker import (
    REPO,
    WORKER_ARGS,
    _forget_queue,
    stop,
    worker_database_env,
)
from tests.outage import broker_down
from tests.trials.test_ctgov_import import preview
from trials import tasks
from trials.ctgov.importing import ctgov_confirm
from trials.models import CtgovImport, Trial

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

committed_world = plain_worker.committed_world
broker_url = plain_worker.broker_url
IMPORT_TIMEOUT = 60.0


def test_a_worker_imports_what_was_confirmed_while_the_broker_was_down(
        committed_world, broker_url, tmp_path, monkeypatch):
    w = committed_world
    prefix = new_prefix("outage")  # queues nobody else's worker consumes
    publish_to_private_queues(monkeypatch, prefix)
    job = preview("NCT02210780.json", w.admin)
    with broker_down():  # committed at once (no test transaction): the publish fails
        ctgov_confirm(job=job, by=w.admin, sponsor=w.sponsor_a, phase=None)
    job.refresh_from_db()
    assert (job.state, job.dispatched_at) == ("queued", None)

    env = {**os.environ, **worker_database_env(), "CELERY_QUEUE_PREFIX": prefix,
           "REDIS_URL": broker_url, "DJANGO_SETTINGS_MODULE": "croportal.settings"}
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", *WORKER_ARGS.split(), *worker_queue_args(prefix)],
            cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        # Beat's next run after the re-dispatch delay, with the broker back.
        CtgovImport.objects.filter(pk=job.pk).update(
            updated_at=timezone.now() - timedelta(hours=1))
        assert tasks.ctgov_imports_redispatch() == 1
        state = wait_until_finished(job.pk, worker=worker, log=log)
    finally:
        stop(worker)
        _forget_queue(broker_url, prefix)

    assert state == "done", log.read_text()
    trial = Trial.objects.get(nct_id="NCT02210780")
    assert trial.sites.count() == 42
    assert "trials.ctgov_import_run" in log.read_text()


def wait_until_finished(job_id: int, *, worker: subprocess.Popen, log) -> str:
    limit = time.monotonic() + IMPORT_TIMEOUT
    while True:
        state = CtgovImport.objects.filter(pk=job_id).values_list("state", flat=True).get()
        if state in ("done", "failed"):
            return state
        if worker.poll() is not None:
            pytest.fail(f"the worker exited with {worker.returncode}:\n{log.read_text()}")
        if time.monotonic() > limit:
            pytest.fail(f"no import after {IMPORT_TIMEOUT:.0f} s; worker log:\n{log.read_text()}")
        time.sleep(0.05)
