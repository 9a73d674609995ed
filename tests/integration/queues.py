"""Throwaway Celery queues for tests that start real workers on the shared Redis.

A worker started with CELERY_QUEUE_PREFIX=<prefix> routes every task to <prefix><queue> (the
settings' routes, prefixed) and must consume all of those; this process publishes the same way
inside `publish_to_private_queues`. Nobody else's worker consumes them."""

import uuid

from celery.app.routes import Router, prepare
from django.conf import settings
from kombu import Queue

from croportal.celery import app


def new_prefix(label: str) -> str:
    return f"test-{label}-{uuid.uuid4().hex[:12]}-"


def private_queues(prefix: str) -> list[str]:
    """Every queue a worker with this prefix must consume (its -Q list)."""
    return [prefix + kind for kind in settings.WORKER_QUEUES]


def worker_queue_args(prefix: str) -> list[str]:
    """`-Q` and `-n` for a worker on all the private queues of `prefix`."""
    return ["-Q", ",".join(private_queues(prefix)), "-n", f"{prefix}worker@%h"]


def private_queue_for(task_name: str, prefix: str) -> str:
    """The private queue the settings' routes send `task_name` to."""
    routed = app.amqp.router.route({}, task_name)["queue"].name
    return prefix + routed.removeprefix(settings.CELERY_QUEUE_PREFIX)


def publish_to_private_queues(monkeypatch, prefix: str) -> None:
    """Until the test ends, this process routes tasks as a worker with `prefix` expects."""
    own = settings.CELERY_QUEUE_PREFIX
    routes = {name: {**route, "queue": prefix + route["queue"].removeprefix(own)}
              for name, route in settings.CELERY_TASK_ROUTES.items()}
    monkeypatch.setitem(app.conf, "task_default_queue",
                        prefix + settings.CELERY_TASK_DEFAULT_QUEUE.removeprefix(own))
    # Declared as the worker's settings declare them (bound by their own name).
    queues = app.amqp.Queues([Queue(name, routing_key=name) for name in private_queues(prefix)])
    monkeypatch.setattr(app.amqp, "router", Router(prepare(routes), queues, True, app=app))
