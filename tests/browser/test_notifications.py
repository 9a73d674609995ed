"""A demo user sees a notification appear under the bell once the real Celery worker has
swept their due deadline (beat's task, sent through Redis to a worker subprocess)."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from playwright.sync_api import expect

from dashboards.management.commands.seed_demo import demo_password
from reminders.models import Notification
from reminders.services import deadline_create_manual
from staffing.models import User
from tests.browser.conftest import ensure_ctcae_terms
from tests.conftest import need_service
from tests.integration.queues import new_prefix, private_queue_for, worker_queue_args
from tests.integration.test_celery_worker import (
    WORKER_ARGS,
    _forget_queue,
    stop,
    wait_for,
    worker_database_env,
)

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.redis,
              pytest.mark.django_db(transaction=True)]


def test_swept_deadline_appears_under_the_bell(live_server, page, tmp_path, redis_url):
    need_service(connection.vendor == "postgresql", "needs PostgreSQL: set DATABASE_URL")
    ensure_ctcae_terms()
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    cra, crm = User.objects.get(username="cra"), User.objects.get(username="crm")
    trial = cra.assignments.first().trial
    deadline = deadline_create_manual(
        by=crm, kind="task", trial=trial, owner=cra, title="Return the signed delegation log",
        due_at=timezone.now() - timedelta(minutes=1))

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "cra")
    page.fill("input[name=password]", demo_password("cra"))
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#bell-link")).to_be_visible()
    expect(page.locator("#unread-count")).to_have_count(0)  # nothing swept yet

    prefix = new_prefix("bell")  # the worker's private queues
    env = {**os.environ, **worker_database_env(),
           "REDIS_URL": redis_url, "CELERY_QUEUE_PREFIX": prefix,
           "EMAIL_URL": "consolemail://", "DJANGO_SETTINGS_MODULE": "croportal.settings"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", *WORKER_ARGS.split(), *worker_queue_args(prefix)],
            cwd=settings.BASE_DIR, env=env, stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        from croportal.celery import app

        sweep = "reminders.tasks.reminders_sweep"
        app.send_task(sweep, queue=private_queue_for(sweep, prefix))
        wait_for(lambda: Notification.objects.filter(deadline=deadline, user=cra).exists(),
                 worker=worker, log=log)
    finally:
        stop(worker)
        _forget_queue(redis_url, prefix)

    page.reload()
    bell = page.locator("#unread-count")
    expect(bell).to_be_visible()
    unread = Notification.objects.filter(user=cra, read_at__isnull=True).count()
    expect(bell).to_have_text(str(unread))
    page.locator("#bell-link").click()
    expect(page.locator("#notifications")).to_contain_text("Return the signed delegation log")
    expect(page.locator("#notifications")).to_contain_text("Overdue")
    page.screenshot(path=tmp_path / "bell.png", full_page=True)
    assert Notification.objects.filter(deadline=deadline).count() == 1
