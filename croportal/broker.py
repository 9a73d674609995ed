"""The broker: the folders of the embedded default's filesystem transport, and a health probe.

Kombu's filesystem transport (no REDIS_URL) needs its folders (VAR_DIR/broker/...) to exist.
They are made where they are used, never at import (settings create nothing on disk): when a
worker starts, before each publish (web, worker, beat) and by the health probe; see the signals
in croportal/celery.py.
"""

import logging
from pathlib import Path

logger = logging.getLogger(__name__)

FOLDER_OPTIONS = ("data_folder_in", "data_folder_out", "processed_folder", "control_folder")


def broker_folders_make(app) -> None:
    """Make the filesystem transport's folders, if that is the broker (a no-op on Redis)."""
    if not str(app.conf.broker_url or "").startswith("filesystem:"):
        return
    options = app.conf.broker_transport_options or {}
    for option in FOLDER_OPTIONS:
        if options.get(option):
            Path(options[option]).mkdir(parents=True, exist_ok=True)


def broker_status(app, *, timeout: float = 2.0) -> str:
    """"ok" when a channel on the broker opens within `timeout` seconds, else "unavailable"."""
    try:
        broker_folders_make(app)
        with app.connection_for_write(connect_timeout=timeout) as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0,
                                         timeout=timeout)
            connection.default_channel  # noqa: B018  (opens it: on Redis, a PING)
    except Exception as error:  # any failure: refused, timeout, auth, unwritable folder
        logger.warning("broker unavailable: %s: %s", type(error).__name__, error)
        return "unavailable"
    return "ok"
