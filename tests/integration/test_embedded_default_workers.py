"""The embedded default (SQLite, Kombu's filesystem broker, no server), as `make run` starts
it: two real workers, one on `celery,reminders` and one on `imports,exports`. Each task reaches
the worker of its queue, the broker folders are made by the workers (not by the settings), and
both workers leave heartbeats, with their queues, in the SQLite database."""

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.integration.test_celery_worker import stop

REPO = Path(settings.BASE_DIR)
TIMEOUT = 60.0
# As logged when a worker receives one (its banner lists every task's name).
DIGESTS, IMPORT = "Task reminders.tasks.digests_send[", "Task trials.ctgov_import_run["
PUBLISH = """
import django
django.setup()
from croportal.celery import app
app.send_task("reminders.tasks.digests_send")
app.send_task("trials.ctgov_import_run", args=(424242,))
"""


@pytest.fixture
def embedded(tmp_path) -> dict:
    """The environment of a fresh embedded default in tmp_path, its database migrated."""
    dropped = {"REDIS_URL", "DATABASE_URL", "DATABASE_OWNER_URL", "CELERY_QUEUE_PREFIX",
               "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {**{k: v for k, v in os.environ.items() if k not in dropped},
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
           "VAR_DIR": str(tmp_path / "var"), "DJANGO_SETTINGS_MODULE": "croportal.settings"}
    # The reminders app and what it stands on (trials, staffing...): enough for these tasks.
    subprocess.run([sys.executable, "manage.py", "migrate", "reminders", "--noinput"],
                   cwd=REPO, env=env, check=True, capture_output=True, timeout=300)
    return env


def heartbeats(database: Path) -> dict[str, set[str]]:
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT name, queues FROM reminders_heartbeat WHERE kind = 'worker'")
        return {name.split("@")[0]: set(queues.split(",")) for name, queues in rows}


def until(condition, workers: dict, what: str) -> None:
    limit = time.monotonic() + TIMEOUT
    while not condition():
        for name, (process, log) in workers.items():
            if process.poll() is not None:
                pytest.fail(f"worker {name} exited with {process.returncode}:\n"
                            f"{log.read_text()}")
        if time.monotonic() > limit:
            logs = "\n".join(f"--- {n}\n{log.read_text()}" for n, (_, log) in workers.items())
            pytest.fail(f"no {what} after {TIMEOUT:.0f} s:\n{logs}")
        time.sleep(0.1)


def test_make_runs_two_workers_each_get_the_tasks_of_their_queues(embedded, tmp_path):
    assert not (tmp_path / "var").exists()  # migrate made no broker folder either
    workers = {}
    for name, queues in (("main", "celery,reminders"), ("bulk", "imports,exports")):
        log = tmp_path / f"{name}.log"
        with log.open("wb") as out:
            workers[name] = (subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "croportal", "worker", "-l", "info",
                 "-c", "1", "-Q", queues, "-n", f"{name}@%h"],
                cwd=REPO, env=embedded, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True), log)
    text = {name: log.read_text for name, (_, log) in workers.items()}
    try:
        until(lambda: len(heartbeats(tmp_path / "db.sqlite3")) == 2, workers, "heartbeats")
        assert heartbeats(tmp_path / "db.sqlite3") == {
            "main": {"celery", "reminders"}, "bulk": {"imports", "exports"}}
        assert (tmp_path / "var" / "broker" / "queue").is_dir()  # made by the workers
        subprocess.run([sys.executable, "-c", PUBLISH], cwd=REPO, env=embedded, check=True,
                       capture_output=True, timeout=120)
        until(lambda: DIGESTS in text["main"]() and IMPORT in text["bulk"](), workers,
              "both tasks")
    finally:
        for process, _ in workers.values():
            stop(process)
    assert IMPORT not in text["main"]()  # the import went to bulk only
    assert DIGESTS not in text["bulk"]()
    assert heartbeats(tmp_path / "db.sqlite3") == {}  # both stopped: both forgotten
