"""The import's job row is an outbox: confirming with the broker down still records the job
(the page answers, no 500), beat's re-dispatch publishes it once the broker answers, and a job
published twice is imported once."""

import logging
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from tests.factories import SponsorFactory, TrialFactory, crm_of
from tests.outage import broker_down
from tests.trials.test_ctgov_import import client_for, counts, preview
from trials import tasks
from trials.ctgov import importing as ctgov_import
from trials.ctgov.importing import ctgov_confirm, ctgov_run
from trials.ctgov.selectors import ctgov_imports_stale
from trials.models import CtgovImport, Trial

pytestmark = pytest.mark.django_db

RECORD = "NCT02210780.json"  # 42 sites


@pytest.fixture
def importer(db):
    """A trial's CRM, who may also create trials."""
    from django.contrib.auth.models import Permission

    crm = crm_of(TrialFactory())
    crm.user_permissions.add(Permission.objects.get(codename="add_trial"))
    return crm


@pytest.fixture
def sponsor_org(db):
    return SponsorFactory(name="Sponsor A")


def record_publishes(monkeypatch) -> list[int]:
    """From now on, the import messages that reach the broker (the outside world)."""
    sent: list[int] = []
    monkeypatch.setattr(tasks.ctgov_import_run, "apply_async",
                        lambda args, **options: sent.append(args[0]))
    return sent


@pytest.fixture
def published(monkeypatch) -> list[int]:
    return record_publishes(monkeypatch)


def confirm_while_the_broker_is_down(job, by, capture) -> CtgovImport:
    with broker_down(), capture(execute=True):  # the after-commit publish runs, and fails
        ctgov_confirm(job=job, by=by, sponsor=None, sponsor_name="Sponsor A", phase=None)
    job.refresh_from_db()
    return job


@pytest.mark.django_db(transaction=True)
def test_confirming_with_the_broker_down_answers_and_keeps_the_job(sponsor_org, importer, caplog):
    job = preview(RECORD, importer)
    client = client_for(importer)
    with broker_down(), caplog.at_level(logging.ERROR, logger="trials.tasks"):
        response = client.post(f"/trials/import/{job.pk}/", {  # commits: on_commit runs here
            "sponsor": sponsor_org.pk, "sponsor_name": "", "phase": "II"})
    assert response.status_code == 302
    assert response["Location"] == f"/trials/import/{job.pk}/progress/"
    job.refresh_from_db()
    assert (job.state, job.dispatched_at) == ("queued", None)
    assert f"could not publish ClinicalTrials.gov imports [{job.pk}]" in caplog.text
    page = client.get(f"/trials/import/{job.pk}/progress/")
    assert page.status_code == 200
    assert "Waiting for a worker to start the import." in page.content.decode()


def test_the_redispatch_publishes_a_job_once_the_broker_answers(
        db, importer, monkeypatch, django_capture_on_commit_callbacks):
    job = confirm_while_the_broker_is_down(preview(RECORD, importer), importer,
                                           django_capture_on_commit_callbacks)
    assert (job.state, job.dispatched_at) == ("queued", None)
    published = record_publishes(monkeypatch)  # the broker answers again
    assert ctgov_imports_stale() == []  # not yet: the publish may still be on its way
    later = timezone.now() + timedelta(seconds=settings.CTGOV_IMPORT_REDISPATCH_AFTER_SECONDS + 1)
    with time_machine.travel(later, tick=False):
        assert tasks.ctgov_imports_redispatch() == 1
        assert published == [job.pk]
        job.refresh_from_db()
        assert job.dispatched_at == later
        assert tasks.ctgov_imports_redispatch() == 0  # dispatched just now: left alone
    assert ctgov_run(job_id=job.pk) is not None  # the worker's turn
    assert ctgov_imports_stale(now=later + timedelta(hours=1)) == []  # done: never again


def test_a_confirm_with_the_broker_up_is_published_once_and_marked(
        sponsor_org, importer, published, django_capture_on_commit_callbacks):
    job = preview(RECORD, importer)
    with django_capture_on_commit_callbacks(execute=True):
        ctgov_confirm(job=job, by=importer, sponsor=sponsor_org, phase=None)
    job.refresh_from_db()
    assert published == [job.pk]
    assert job.dispatched_at is not None


def test_a_job_published_twice_is_imported_once(sponsor_org, importer):
    job = preview(RECORD, importer)
    ctgov_confirm(job=job, by=importer, sponsor=sponsor_org, phase=None, enqueue=False)
    first = ctgov_import._claim(job.pk)  # the first delivery is importing
    assert first is not None
    before = counts()
    assert ctgov_run(job_id=job.pk) is None  # the second delivery finds it taken
    assert counts() == before
    job.refresh_from_db()
    assert job.state == "running"


def test_a_run_whose_worker_died_is_published_and_claimed_again(sponsor_org, importer, published):
    job = preview(RECORD, importer)
    ctgov_confirm(job=job, by=importer, sponsor=sponsor_org, phase=None, enqueue=False)
    assert ctgov_import._claim(job.pk) is not None
    long_ago = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 61)
    assert job.pk not in ctgov_imports_stale()  # running, within the time limit
    CtgovImport.objects.filter(pk=job.pk).update(claimed_at=long_ago, dispatched_at=long_ago)
    assert ctgov_imports_stale() == [job.pk]  # killed by the hard time limit, surely
    assert tasks.ctgov_imports_redispatch() == 1
    trial = ctgov_run(job_id=job.pk)
    assert trial is not None
    assert Trial.objects.filter(nct_id="NCT02210780").count() == 1
    assert ctgov_run(job_id=job.pk) == trial  # and once done, never again


def test_beat_runs_the_redispatch_every_minute():
    from croportal.celery import app

    entry = app.conf.beat_schedule["ctgov-imports-redispatch"]
    assert entry["task"] == tasks.ctgov_imports_redispatch.name
    assert entry["schedule"] == 60.0
    assert entry["options"]["expire_seconds"] < 60  # django-celery-beat's name for expires
