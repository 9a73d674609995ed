"""Celery queues split by kind (DESIGN §2): each task is routed by name to its queue, a routed
message really lands on that queue only (real Redis), the imports queue is not the reminders
queue, and `make run` and docker-compose.yml start workers on every queue, with imports and
reminders on different workers so that a long import never delays the minute sweep."""

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.apps import apps
from django.conf import settings

from croportal.celery import app
from tests.integration.queues import new_prefix
from tests.integration.test_celery_worker import _forget_queue

ROOT = Path(settings.BASE_DIR)
QUEUE_OF = {  # every task of the portal: a new one must be given a queue here
    "reminders.tasks.reminders_sweep": "reminders",
    "reminders.tasks.reminder_deliver": "reminders",
    "reminders.tasks.digests_send": "reminders",
    "trials.ctgov_import_run": "imports",
    "trials.ctgov_imports_redispatch": "imports",
    "staffing.tasks.assignments_apply_dates": "celery",
    "sites.tasks.consent_versions_apply": "celery",
    "safety.tasks.dsur_deadlines_open": "celery",
    "reminders.tasks.list_export": "exports",
    "reminders.tasks.exports_redispatch": "exports",
}


def portal_tasks() -> set[str]:
    for config in apps.get_app_configs():
        if not config.name.startswith(("django", "rest_framework")):
            try:
                importlib.import_module(f"{config.name}.tasks")
            except ModuleNotFoundError as error:
                if error.name != f"{config.name}.tasks":
                    raise
    return {name for name in app.tasks if not name.startswith("celery.")}


def routed(task_name: str):
    return app.amqp.router.route({}, task_name)["queue"]


def test_every_task_of_the_portal_is_routed_to_its_queue():
    assert portal_tasks() == set(QUEUE_OF)
    assert {name: routed(name).name for name in QUEUE_OF} == QUEUE_OF
    assert routed("safety.tasks.cioms_export").name == "exports"  # exports to come


def test_the_import_queue_is_not_the_reminders_queue():
    imports = routed("trials.ctgov_import_run")
    reminders = routed("reminders.tasks.reminders_sweep")
    assert imports.name != reminders.name
    assert imports.routing_key != reminders.routing_key  # else one message goes to both
    assert {queue.routing_key for queue in settings.CELERY_TASK_QUEUES} == set(
        settings.WORKER_QUEUES.values())


PUBLISH = """
import django
django.setup()
from croportal.celery import app
app.send_task("reminders.tasks.reminders_sweep")
app.send_task("trials.ctgov_import_run", args=(1,))
app.send_task("trials.ctgov_import_run", args=(2,))
app.send_task("staffing.tasks.assignments_apply_dates")
"""


@pytest.mark.redis
def test_a_routed_task_lands_on_its_own_queue_in_redis(redis_url):
    import redis

    prefix = new_prefix("routes")  # the settings' own routes, with throwaway queue names
    env = {**os.environ, "REDIS_URL": redis_url, "CELERY_QUEUE_PREFIX": prefix,
           "DJANGO_SETTINGS_MODULE": "croportal.settings"}
    client = redis.Redis.from_url(redis_url)
    try:
        result = subprocess.run([sys.executable, "-c", PUBLISH], cwd=ROOT, env=env, text=True,
                                capture_output=True, timeout=120, check=False)
        assert result.returncode == 0, result.stderr
        waiting = {kind: client.llen(prefix + kind) for kind in settings.WORKER_QUEUES}
    finally:
        _forget_queue(redis_url, prefix)
    assert waiting == {"celery": 1, "reminders": 1, "imports": 2, "exports": 0}


# ------------------------------------------------------------- workers for every queue

def make_run_workers() -> list[set[str]]:
    """The -Q list of each worker `make run` starts (dry run: nothing is executed)."""
    result = subprocess.run(["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True,
                            timeout=60, check=True)
    lines = [line for line in result.stdout.splitlines() if "celery -A croportal worker" in line]
    return [set(re.search(r"-Q (\S+)", line).group(1).split(",")) for line in lines]


def compose_workers() -> dict[str, set[str]]:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    workers = {}
    for name, service in services.items():
        command = service.get("command") or []
        if isinstance(command, list) and command[:4] == ["celery", "-A", "croportal", "worker"]:
            workers[name] = set(command[command.index("-Q") + 1].split(","))
    return workers


@pytest.mark.parametrize("workers", [make_run_workers, lambda: list(compose_workers().values())],
                         ids=["make run", "docker-compose.yml"])
def test_every_queue_has_a_worker_and_imports_never_share_one_with_reminders(workers):
    consumed = workers()
    assert set().union(*consumed) == set(settings.WORKER_QUEUES.values())
    for queues in consumed:
        assert not {"imports", "reminders"} <= queues, queues


def test_the_compose_import_worker_is_run_like_the_main_worker():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert set(compose_workers()) == {"worker", "worker-imports"}
    main, imports = services["worker"], services["worker-imports"]
    for key in ("environment", "depends_on", "healthcheck", "stop_grace_period", "volumes"):
        assert imports[key] == main[key], key
