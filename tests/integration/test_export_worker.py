"""A real Celery worker on the `exports` queue (prefork, Redis, PostgreSQL) writes a big list
export asked for on the page: the request answers the job's page at once, the worker selects
the rows as the person sees them, reports progress, and the file downloads from the job."""

import csv
import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from reminders.models import ExportJob
from sites.models import Site
from tests.factories import SiteFactory
from tests.integration import test_celery_worker as plain_worker
from tests.integration.queues import new_prefix, publish_to_private_queues, worker_queue_args
from tests.integration.test_celery_worker import _forget_queue, stop, worker_database_env

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

committed_world = plain_worker.committed_world
broker_url = plain_worker.broker_url
REPO = Path(settings.BASE_DIR)
TIMEOUT = 60.0
WORKER_SETTINGS = """from croportal.settings import *  # noqa: F403
STORAGES["exports"] = {{"BACKEND": "django.core.files.storage.FileSystemStorage",
                       "OPTIONS": {{"location": {location!r}}}}}
"""


def test_a_worker_writes_a_big_export_the_page_asked_for(committed_world, broker_url, tmp_path,
                                                         monkeypatch, client, settings):
    w = committed_world
    for n in range(30):
        SiteFactory(trial=w.trial_a, by=w.admin, number=f"X{n:02d}")
    location = str(tmp_path / "exports")
    settings.EXPORT_SYNC_MAX_ROWS = 10
    settings.STORAGES = {**settings.STORAGES, "exports": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": location}}}
    (tmp_path / "export_worker_settings.py").write_text(WORKER_SETTINGS.format(location=location))
    prefix = new_prefix("exports")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), str(REPO),
                                                    os.environ.get("PYTHONPATH")])),
        "DJANGO_SETTINGS_MODULE": "export_worker_settings",
        **worker_database_env(), "REDIS_URL": broker_url, "CELERY_QUEUE_PREFIX": prefix,
    }
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "croportal", "worker", "-l", "info", "-c",
             "1", "-P", "prefork", "--without-gossip", "--without-mingle",
             "--without-heartbeat", *worker_queue_args(prefix)],
            cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True)
    publish_to_private_queues(monkeypatch, prefix)
    try:
        client.force_login(w.crm)
        response = client.get(f"/trials/{w.trial_a.pk}/sites/",
                              {"q": "X", "sort": "-number", "export": "csv"})
        job = ExportJob.objects.exclude(pk=w.export_crm.pk).get()
        assert response.status_code == 302
        assert response.url == f"/exports/{job.pk}/"
        limit = time.monotonic() + TIMEOUT
        while job.state not in ("done", "failed"):
            if worker.poll() is not None or time.monotonic() > limit:
                pytest.fail(f"no export; worker log:\n{log.read_text()}")
            time.sleep(0.1)
            job.refresh_from_db()
    finally:
        stop(worker)
        _forget_queue(broker_url, prefix)
    assert (job.state, job.total, job.error) == ("done", 30, ""), log.read_text()
    assert "reminders.tasks.list_export" in log.read_text()
    download = client.get(f"/exports/{job.pk}/file/")
    body = b"".join(download.streaming_content).decode("utf-8-sig")
    numbers = [row[0] for row in list(csv.reader(io.StringIO(body)))[1:]]
    assert numbers == list(Site.objects.filter(trial=w.trial_a, number__startswith="X")
                           .order_by("-number").values_list("number", flat=True))
