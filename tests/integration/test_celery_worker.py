"""A real Celery worker (prefork, Redis broker) runs the daily assignment sweep against the
test database: a start-today assignment gains its permissions, an ended one loses them."""

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from access.roles import permissions_for
from staffing.models import Assignment, Role
from staffing.services import assignment_start
from tests.conftest import build_world, make_user, need_service
from trials.models import TrialUserObjectPermission

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

REPO = Path(settings.BASE_DIR)
EFFECT_TIMEOUT = 45.0  # seconds; the worker is usually ready in ~3 s
POLL_EVERY = 0.2
WORKER_ARGS = (
    "-A croportal worker -l info -c 1 -P prefork --without-gossip --without-mingle"
    " --without-heartbeat"
)


def database_url_of(settings_dict: dict) -> str:
    """A DATABASE_URL naming the very database this test uses (pytest-django's test DB)."""
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{quote(settings_dict['NAME'], safe='')}"


def worker_database_env() -> dict[str, str]:
    """A worker's database: this test's, as the runtime role the tests run as; no owner login
    (a worker never migrates, and the owner's URL names the non-test database)."""
    return {"DATABASE_URL": database_url_of(connection.settings_dict), "DATABASE_OWNER_URL": ""}


def trial_codenames(user, trial) -> set[str]:
    return set(
        TrialUserObjectPermission.objects.filter(user=user, content_object=trial).values_list(
            "permission__codename", flat=True
        )
    )


def wait_for(condition, *, worker: subprocess.Popen, log: Path) -> None:
    """Poll the database for the task's effect; fail early if the worker dies."""
    deadline = time.monotonic() + EFFECT_TIMEOUT
    while not condition():
        if worker.poll() is not None:
            pytest.fail(f"the Celery worker exited with {worker.returncode}:\n{log.read_text()}")
        if time.monotonic() > deadline:
            pytest.fail(f"no effect after {EFFECT_TIMEOUT:.0f} s; worker log:\n{log.read_text()}")
        time.sleep(POLL_EVERY)


def stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)  # warm shutdown; the pool children go with it
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)  # its own session: only this worker's group
            worker.wait(timeout=10)


@pytest.fixture
def committed_world(transactional_db):
    need_service(connection.vendor == "postgresql", "needs PostgreSQL: set DATABASE_URL")
    return build_world()  # reloads the CTCAE dictionary a transactional flush emptied


@pytest.fixture
def broker_url(redis_url):
    import redis

    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        need_service(False, f"needs Redis at {redis_url}: {error}")
    return redis_url


def test_real_worker_applies_assignment_dates(committed_world, broker_url, tmp_path):
    w = committed_world
    today = timezone.localdate()
    # Starts today, written straight to the table: nobody synced its permissions yet.
    newcomer = make_user("newcomer_a", w.cro)
    Assignment.objects.create(
        user=newcomer, trial=w.trial_a, role=Role.MEDICAL_MONITOR, start_date=today
    )
    # Ended yesterday, but the end was written without the service: permissions linger.
    leaver = make_user("leaver_a", w.cro)
    ended = assignment_start(
        user=leaver,
        trial=w.trial_a,
        role=Role.CRM,
        by=w.admin,
        start_date=today - timedelta(days=7),
    )
    Assignment.objects.filter(pk=ended.pk).update(end_date=today - timedelta(days=1))
    sponsor_before = trial_codenames(w.sponsor, w.trial_a)
    assert trial_codenames(newcomer, w.trial_a) == set()
    assert trial_codenames(leaver, w.trial_a) == permissions_for(Role.CRM, site_scoped=False)[0]

    from croportal.celery import app
    from staffing.tasks import assignments_apply_dates

    queue = f"test-worker-{uuid.uuid4().hex[:12]}"  # nobody else's worker consumes it
    env = {
        **os.environ,
        **worker_database_env(),
        "REDIS_URL": broker_url,
        "DJANGO_SETTINGS_MODULE": "croportal.settings",
    }
    log = tmp_path / "worker.log"
    name = f"{queue}@%h"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", *WORKER_ARGS.split(), "-Q", queue, "-n", name],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        # send_task always goes through the broker, even if someone turns on eager mode.
        app.send_task(assignments_apply_dates.name, queue=queue)
        wanted = permissions_for(Role.MEDICAL_MONITOR, site_scoped=False)[0]
        wait_for(
            lambda: (
                trial_codenames(newcomer, w.trial_a) == wanted
                and not trial_codenames(leaver, w.trial_a)
            ),
            worker=worker,
            log=log,
        )
    finally:
        stop(worker)
        _forget_queue(broker_url, queue)

    assert trial_codenames(newcomer, w.trial_a) == wanted
    assert trial_codenames(leaver, w.trial_a) == set()
    assert trial_codenames(w.sponsor, w.trial_a) == sponsor_before  # untouched
    assert "assignments_apply_dates" in log.read_text()


def _forget_queue(redis_url: str, queue: str) -> None:
    """Drop the throwaway queue's keys (messages, kombu bindings) from the shared Redis."""
    import redis

    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"*{queue}*"))  # the name is unique to this test
    if keys:
        client.delete(*keys)
    for binding in client.scan_iter(match="_kombu.binding.*"):  # e.g. the celery exchange's
        stale = [m for m in client.smembers(binding) if queue.encode() in m]
        if stale:
            client.srem(binding, *stale)
