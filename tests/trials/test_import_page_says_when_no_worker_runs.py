"""A ClinicalTrials.gov import that waits for a worker says so on its page when no worker
consumes the imports queue (from the workers' heartbeats), instead of "Queued 0%" for ever."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from reminders.heartbeats import WORKER_FRESH_SECONDS
from reminders.models import Heartbeat
from tests.trials import test_ctgov_import as ctgov_tests
from tests.trials.test_ctgov_import import client_for, preview
from trials.models import CtgovImport

pytestmark = pytest.mark.django_db
importer = ctgov_tests.importer  # the fixture: trial A's CRM, who may create trials
IMPORTS = settings.WORKER_QUEUES["imports"]


def queued_job(by) -> CtgovImport:
    job = preview("NCT02210780.json", by)
    CtgovImport.objects.filter(pk=job.pk).update(state="queued")
    return job


def worker(name: str, queues: str, *, seconds_ago: float = 5) -> None:
    Heartbeat.objects.create(name=name, kind="worker", queues=queues,
                             seen_at=timezone.now() - timedelta(seconds=seconds_ago))


def bar_of(user, job) -> str:
    return client_for(user).get(f"/trials/import/{job.pk}/progress/bar/").content.decode()


def test_without_any_worker_the_page_says_none_is_running(world, importer):
    job = queued_job(importer)
    bar = bar_of(importer, job)
    assert 'id="ctgov-no-worker"' in bar
    assert "No worker is running" in bar
    assert "Waiting for a worker to start the import." in bar
    assert "Queued" not in bar
    assert "0%" not in bar
    assert 'hx-trigger="every 1s"' in bar  # it keeps looking: the message goes once one runs
    page = client_for(importer).get(f"/trials/import/{job.pk}/progress/").content.decode()
    assert 'id="ctgov-no-worker"' in page


def test_a_worker_gone_quiet_or_on_other_queues_only_is_no_worker(world, importer):
    job = queued_job(importer)
    worker("main@host", "celery,reminders")  # alive, but does not take imports
    worker("bulk@host", f"exports,{IMPORTS}", seconds_ago=WORKER_FRESH_SECONDS + 30)  # gone
    assert 'id="ctgov-no-worker"' in bar_of(importer, job)


def test_with_a_worker_on_the_imports_queue_the_job_is_simply_queued(world, importer):
    job = queued_job(importer)
    worker("bulk@host", f"exports,{IMPORTS}")
    bar = bar_of(importer, job)
    assert 'id="ctgov-no-worker"' not in bar
    assert "Waiting for a worker to start the import." in bar
    assert "Queued" in bar


def test_a_running_import_never_says_it_waits(world, importer):
    job = queued_job(importer)
    CtgovImport.objects.filter(pk=job.pk).update(state="running", done=21)
    bar = bar_of(importer, job)
    assert "No worker is running" not in bar
    assert "Waiting for a worker" not in bar
    assert "21 of 42 sites" in bar
