"""Outages for tests, without stopping the real services: the Celery app pointed at a port
where nothing listens."""

from collections.abc import Iterator
from contextlib import contextmanager

from croportal.celery import app

CLOSED_REDIS_URL = "redis://127.0.0.1:6390/0"  # nothing listens there


def _forget_connections() -> None:
    """Drop the app's cached broker pools so the next publish connects to the new URL."""
    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def broker_at(url: str) -> Iterator[None]:
    """Publish to the broker at `url` inside the block (the app's own one again after)."""
    saved = app.conf.broker_url
    app.conf.broker_url = url
    _forget_connections()
    try:
        yield
    finally:
        app.conf.broker_url = saved
        _forget_connections()


@contextmanager
def broker_down() -> Iterator[None]:
    """Every publish inside the block meets a broker that refuses the connection."""
    with broker_at(CLOSED_REDIS_URL):
        yield
