"""The import's progress bar moves while the import's transaction is still open, on the
embedded default (SQLite: the import is the one writer, progress goes to a file in VAR_DIR
that every process reads) as on PostgreSQL (the job's row, through a second connection)."""

import re

import pytest
from django.db import connection

from tests.trials import test_ctgov_import as ctgov_tests
from tests.trials.test_ctgov_import import client_for, preview
from trials.ctgov import importing as ctgov_import
from trials.ctgov.importing import ctgov_confirm, ctgov_run

importer = ctgov_tests.importer  # the fixture: trial A's CRM, who may create trials


@pytest.mark.django_db(transaction=True)  # committed rows, as a worker and the web see them
def test_each_batch_shows_on_the_progress_page_before_the_commit(
        world, importer, settings, tmp_path, monkeypatch):
    settings.VAR_DIR = tmp_path / "var"
    settings.CTGOV_IMPORT_BATCH_SIZE = 10
    job = preview("NCT02210780.json", importer)  # 42 sites: batches of 10, 10, 10, 10, 2
    ctgov_confirm(job=job, by=importer, sponsor=world.sponsor_a, phase=None, enqueue=False)
    client = client_for(importer)
    seen = []
    report = ctgov_import.Progress.report

    def report_and_look(progress, done):
        report(progress, done)
        assert connection.in_atomic_block  # the import has not committed yet
        bar = client.get(f"/trials/import/{job.pk}/progress/bar/").content.decode()
        shown = re.search(r"<strong>(\d+)%</strong> · (\d+) of 42 sites", bar)
        seen.append((int(shown.group(2)), int(shown.group(1))))

    monkeypatch.setattr(ctgov_import.Progress, "report", report_and_look)
    assert ctgov_run(job_id=job.pk) is not None

    assert seen == [(10, 23), (20, 47), (30, 71), (40, 95), (42, 100)]
    job.refresh_from_db()
    assert (job.state, job.done) == ("done", 42)
    assert not any(tmp_path.rglob("*.json"))  # (SQLite's progress file goes with the import)
