"""A real Celery worker on Redis runs a task whose effect is seen in PostgreSQL."""

import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from staffing.models import Assignment, Role
from staffing.permissions import TRIAL_WIDE
from staffing.tasks import assignments_apply_dates
from tests.conftest import build_world, make_user, need_service
from trials.models import TrialUserObjectPermission

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return (f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
            f"/{s['NAME']}")


@pytest.fixture
def worker(transactional_db, redis_url):
    need_service(connection.vendor == "postgresql", "needs PostgreSQL: set DATABASE_URL")
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": database_url(), "REDIS_URL": redis_url}
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "croportal", "worker", "-l", "info", "-c", "1",
         "-P", "solo", "--without-gossip", "--without-mingle", "--without-heartbeat",
         "-Q", queue, "-n", f"{queue}@%h"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        yield queue
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_for(predicate, *, timeout: float = 60.0) -> bool:
    """Poll for an effect (bounded); not a fixed sleep."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_the_worker_grants_an_assignment_starting_today(worker):
    world = build_world()
    newcomer = make_user("starts_today", world.cro)
    # A row whose start was not yet applied, as the daily task finds it each morning.
    Assignment.objects.create(user=newcomer, trial=world.trial_a, role=Role.CRM,
                              start_date=timezone.localdate() - timedelta(days=1))

    def granted() -> set[str]:
        return set(TrialUserObjectPermission.objects.filter(user=newcomer)
                   .values_list("permission__codename", flat=True))

    assert granted() == set()
    assignments_apply_dates.apply_async(queue=worker)
    assert wait_for(lambda: granted() == TRIAL_WIDE[Role.CRM]), granted()
