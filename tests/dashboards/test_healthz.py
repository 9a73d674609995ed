"""/healthz/ reports the database, the broker, and whether a worker (per queue) and beat were
seen lately, from the heartbeats they leave in the database; 200 while the database answers."""

import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.db import OperationalError
from django.utils import timezone

from croportal import celery as celery_wiring
from croportal.celery import app
from reminders.heartbeats import WORKER_FRESH_SECONDS, beat_fresh_seconds
from reminders.models import Heartbeat
from tests.outage import broker_down

ALL_QUEUES = ",".join(settings.WORKER_QUEUES.values())


def beat(name: str, seconds_ago: float, queues: str = ALL_QUEUES, kind: str = "worker") -> None:
    Heartbeat.objects.create(name=name, kind=kind, queues=queues if kind == "worker" else "",
                             seen_at=timezone.now() - timedelta(seconds=seconds_ago))


@pytest.mark.django_db
def test_nothing_seen_yet_is_reported_but_the_web_stays_in_service(client):
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok", "database": "ok", "broker": "ok",
        "worker": {"seen": None, "ok": False,
                   "queues": dict.fromkeys(settings.WORKER_QUEUES.values(), False)},
        "beat": {"seen": None, "ok": False},
    }


@pytest.mark.django_db
def test_a_worker_on_every_queue_and_beat_seen_lately_are_ok(client):
    beat("main@host", 10, "celery,reminders")
    beat("bulk@host", 20, "exports,imports")
    beat("beat@host", 30, kind="beat")
    health = client.get("/healthz/").json()
    assert health["worker"]["ok"] is True
    assert set(health["worker"]["queues"].values()) == {True}
    assert health["beat"]["ok"] is True
    seen = Heartbeat.objects.get(name="main@host").seen_at
    assert health["worker"]["seen"] == seen.isoformat()


@pytest.mark.django_db
def test_a_queue_without_a_live_worker_is_named(client):
    beat("main@host", 10, "celery,reminders")
    beat("bulk@host", WORKER_FRESH_SECONDS + 60, "exports,imports")  # gone
    beat("beat@host", beat_fresh_seconds() + 60, kind="beat")  # gone too
    health = client.get("/healthz/").json()
    assert health["worker"]["ok"] is False
    assert health["worker"]["queues"] == {"celery": True, "reminders": True,
                                          "imports": False, "exports": False}
    assert health["beat"]["ok"] is False
    assert health["beat"]["seen"] is not None  # when it was last seen


@pytest.mark.django_db
def test_a_broker_that_is_down_is_reported_and_the_answer_stays_200(client):
    with broker_down():
        response = client.get("/healthz/")
    assert response.status_code == 200
    assert (response.json()["database"], response.json()["broker"]) == ("ok", "unavailable")


@pytest.mark.django_db
def test_a_database_that_does_not_answer_is_a_503(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr("dashboards.views.connection.cursor", refuse)
    response = client.get("/healthz/")
    assert response.status_code == 503
    assert response.json()["status"] == "database unavailable"
    assert response.json()["worker"] == {"seen": None, "ok": None}


@pytest.mark.django_db(transaction=True)
def test_a_worker_records_its_queues_when_ready_and_forgets_them_when_it_stops():
    consumer = SimpleNamespace(hostname="celery@worker-1", app=app)
    celery_wiring._worker_heartbeat_start(sender=consumer)
    try:
        pulse = celery_wiring._pulses["worker"]
        limit = time.monotonic() + 10  # its first heartbeat is written at once, by its thread
        while not Heartbeat.objects.filter(name="celery@worker-1").exists():
            assert time.monotonic() < limit, "no heartbeat from the worker's thread"
            time.sleep(0.01)
        row = Heartbeat.objects.get(name="celery@worker-1")
        assert (row.kind, set(row.queues.split(","))) == ("worker", set(ALL_QUEUES.split(",")))
        assert timezone.now() - row.seen_at < timedelta(seconds=30)
    finally:
        celery_wiring._worker_heartbeat_stop(sender=None)
    assert not pulse.thread.is_alive()
    assert not Heartbeat.objects.filter(name="celery@worker-1").exists()


@pytest.mark.django_db
def test_beat_records_its_start_and_its_publishing():
    celery_wiring._beat_heartbeat_start(sender=None)
    try:
        row = Heartbeat.objects.get(kind="beat")
        Heartbeat.objects.filter(pk=row.pk).update(seen_at=row.seen_at - timedelta(hours=1))
        celery_wiring._pulses["beat"].written -= 3600  # the throttle's time has passed
        celery_wiring._beat_heartbeat_on_publish(sender="reminders.tasks.reminders_sweep")
        assert Heartbeat.objects.get(pk=row.pk).seen_at > row.seen_at - timedelta(minutes=1)
    finally:
        celery_wiring._pulses.pop("beat")
