"""A real Celery worker (prefork, Redis broker, PostgreSQL) imports the NCI-MATCH record
(1,218 sites) queued by `ctgov_confirm`; the progress shows from another connection while the
import's transaction is still open, and the trial arrives whole."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from sites.models import Site
from tests.conftest import need_service
from tests.integration import test_celery_worker as plain_worker
from tests.integration.queues import new_prefix, publish_to_private_queues, worker_queue_args
from tests.integration.test_celery_worker import _forget_queue, stop, worker_database_env
from trials.ctgov.importing import ctgov_confirm, ctgov_preview
from trials.models import CtgovImport, Trial

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

committed_world = plain_worker.committed_world
broker_url = plain_worker.broker_url

REPO = Path(settings.BASE_DIR)
RECORD = Path(settings.BASE_DIR).parent / "shared" / "data" / "ctgov-records" / "legacy-xml" / (
    "NCT02465060.xml")
BATCH = 25  # the worker's batch size: 49 progress steps to observe
IMPORT_TIMEOUT = 90.0
# The worker's private settings: the portal's own, with small import batches.
WORKER_SETTINGS = """from croportal.settings import *  # noqa: F403
CTGOV_IMPORT_BATCH_SIZE = {batch}
"""


def test_a_worker_imports_1218_sites_with_visible_progress(committed_world, broker_url,
                                                           tmp_path, monkeypatch):
    need_service(RECORD.exists(), f"needs the ClinicalTrials.gov sample record {RECORD}")
    w = committed_world
    prefix = new_prefix("ctgov")  # queues nobody else's worker consumes
    (tmp_path / "ctgov_worker_settings.py").write_text(WORKER_SETTINGS.format(batch=BATCH))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), str(REPO),
                                                    os.environ.get("PYTHONPATH")])),
        "DJANGO_SETTINGS_MODULE": "ctgov_worker_settings",
        **worker_database_env(),
        "REDIS_URL": broker_url,
        "CELERY_QUEUE_PREFIX": prefix,
    }
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "croportal", "worker", "-l", "info", "-c",
             "1", "-P", "prefork", "--without-gossip", "--without-mingle",
             "--without-heartbeat", *worker_queue_args(prefix)],
            cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
    # This process publishes to the worker's private queues, as the web would to its own.
    publish_to_private_queues(monkeypatch, prefix)
    try:
        job = ctgov_preview(data=RECORD.read_bytes(), filename=RECORD.name, by=w.admin)
        assert job.total == 1218
        # Committed at once (no test transaction): the task is published on commit.
        ctgov_confirm(job=job, by=w.admin, sponsor=None, sponsor_name="National Cancer "
                      "Institute (NCI)", phase=None)
        seen = watch_progress(job.pk, worker=worker, log=log)
    finally:
        stop(worker)
        _forget_queue(broker_url, prefix)

    job.refresh_from_db()
    assert (job.state, job.done, job.total, job.error) == ("done", 1218, 1218, ""), log.read_text()
    between = sorted({done for done in seen if 0 < done < 1218})
    assert between, f"no progress seen between 0 and 1218: {sorted(seen)}"
    assert set(between) <= set(range(BATCH, 1218, BATCH))  # whole batches, as reported
    trial = Trial.objects.get(nct_id="NCT02465060")
    assert job.trial == trial
    assert trial.sites.count() == 1218
    assert Site.history.filter(trial_id=trial.pk).count() == 1218
    assert trial.sites.filter(number="0001", city="Birmingham", country="US").exists()
    assert trial.sites.order_by("number").last().number == "1218"
    assert "trials.ctgov_import_run" in log.read_text()
    print(f"progress seen at {len(between)} of {1218 // BATCH} intermediate steps")


def watch_progress(job_id: int, *, worker: subprocess.Popen, log: Path) -> list[int]:
    """Poll the job row from this test's own connection until the import ends. All or
    nothing: once any site of the trial is visible here, the job is done (same commit)."""
    seen: list[int] = []
    limit = time.monotonic() + IMPORT_TIMEOUT
    while True:
        sites_visible = Site.objects.filter(trial__nct_id="NCT02465060").exists()
        state, done = CtgovImport.objects.filter(pk=job_id).values_list("state", "done").get()
        seen.append(done)
        if sites_visible:
            assert state == "done", (state, done)
        if 0 < done < 1218:
            assert state == "running"
        if state in ("done", "failed"):
            return seen
        if worker.poll() is not None:
            pytest.fail(f"the worker exited with {worker.returncode}:\n{log.read_text()}")
        if time.monotonic() > limit:
            pytest.fail(f"no import after {IMPORT_TIMEOUT:.0f} s; worker log:\n{log.read_text()}")
        time.sleep(0.01)
