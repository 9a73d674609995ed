"""Links in e-mails and calendar feeds (PORTAL_BASE_URL) point where `make run` serves: it
passes its HOST and PORT to the web, the workers and beat, and the settings' default is the
Makefile's default HOST and PORT."""

import os
import re
import runpy
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from reminders.ical import calendar_of
from reminders.services import absolute_url

ROOT = Path(__file__).resolve().parents[2]


def make_run(*args: str, **env: str) -> str:
    """`make run`'s commands, printed, not executed (`make -n`)."""
    environment = {k: v for k, v in os.environ.items() if k != "PORTAL_BASE_URL"}
    result = subprocess.run(["make", "-n", "run", *args], cwd=ROOT, env={**environment, **env},
                            capture_output=True, text=True, timeout=60, check=True)
    return result.stdout


def test_make_run_passes_the_host_and_port_it_serves_on_to_every_process():
    commands = make_run("HOST=0.0.0.0", "PORT=9123")
    started = commands[commands.index("trap "):]
    assert "export PORTAL_BASE_URL='http://0.0.0.0:9123';" in started
    # Exported before every process it starts, and runserver serves on that very origin.
    exported = started.index("export PORTAL_BASE_URL")
    for process in ("celery -A croportal worker", "celery -A croportal beat", "runserver"):
        assert started.index(process) > exported, process
    assert "manage.py runserver 0.0.0.0:9123" in started


def test_a_base_url_of_ones_own_wins_over_host_and_port():
    commands = make_run("PORT=9123", PORTAL_BASE_URL="https://portal.example.org")
    assert "export PORTAL_BASE_URL='https://portal.example.org';" in commands


def test_the_settings_default_is_the_makefiles_default_host_and_port(monkeypatch):
    makefile = (ROOT / "Makefile").read_text()
    host = re.search(r"^HOST \?= (\S+)$", makefile, re.M).group(1)
    port = re.search(r"^PORT \?= (\S+)$", makefile, re.M).group(1)
    monkeypatch.delenv("PORTAL_BASE_URL", raising=False)
    settings = runpy.run_path(str(ROOT / "croportal" / "settings.py"))
    assert settings["PORTAL_BASE_URL"] == f"http://{host}:{port}"
    assert host in settings["ALLOWED_HOSTS"]  # and the portal answers on that host
    assert f"http://{host}:{port}/" in make_run()  # the address `make run` prints


def test_e_mail_and_calendar_links_are_built_on_the_base_url(settings):
    settings.PORTAL_BASE_URL = "http://0.0.0.0:9123"
    assert absolute_url(path="/trials/7/") == "http://0.0.0.0:9123/trials/7/"
    now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    deadline = SimpleNamespace(pk=1, due_at=now + timedelta(days=1), due_on=None, trial=None,
                               title="Visit",
                               url="/deadlines/", updated_at=now,
                               get_kind_display=lambda: "Task")
    feed = calendar_of([deadline], now=now, name="Deadlines").decode()
    assert "URL:http://0.0.0.0:9123/deadlines/" in feed
