"""Importing the settings (and the Celery app, and the WSGI application) creates nothing on
disk; the filesystem broker's folders appear when the broker is first used."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

START_UP = """
import django
from django.conf import settings
import croportal.settings, croportal.celery
django.setup()
from django.core.wsgi import get_wsgi_application
get_wsgi_application()  # loads the middleware: WhiteNoise looks for STATIC_ROOT
"""

PUBLISH = START_UP + """
from croportal.celery import app
app.send_task("trials.ctgov_import_run", args=(0,))
print(json.dumps(settings.CELERY_BROKER_TRANSPORT_OPTIONS))
"""


def run_python(code: str, var_dir: Path, **env: str) -> subprocess.CompletedProcess:
    dropped = {"REDIS_URL", "DATABASE_URL", "DATABASE_OWNER_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in dropped}
    environment = {**clean, "DJANGO_SETTINGS_MODULE": "croportal.settings",
                   "VAR_DIR": str(var_dir),
                   "DATABASE_URL": f"sqlite:///{var_dir.parent / 'never-created.sqlite3'}",
                   **env}
    return subprocess.run([sys.executable, "-c", "import json\n" + code], cwd=ROOT,
                          env=environment, capture_output=True, text=True, timeout=120,
                          check=False)


@pytest.mark.parametrize("debug", ["true", "false"])
def test_start_up_creates_no_folder(tmp_path, debug):
    var_dir = tmp_path / "var"
    result = run_python(START_UP, var_dir, DEBUG=debug, SECRET_KEY="k" * 50)
    assert result.returncode == 0, result.stderr
    assert list(tmp_path.iterdir()) == []  # no var/, no broker/, no staticfiles/, no database
    if debug == "true":  # runserver serves from the finders; production runs collectstatic
        assert "No directory at" not in result.stderr


def test_the_broker_folders_are_made_by_the_first_publish(tmp_path):
    var_dir = tmp_path / "var"
    result = run_python(PUBLISH, var_dir)
    assert result.returncode == 0, result.stderr
    options = json.loads(result.stdout.strip().splitlines()[-1])
    for option in ("data_folder_in", "processed_folder", "control_folder"):
        assert Path(options[option]).is_dir(), option
        assert Path(options[option]).is_relative_to(var_dir)
    messages = list(Path(options["data_folder_out"]).glob("*.imports.msg"))
    assert len(messages) == 1  # published, to the imports queue
    assert sorted(p.name for p in var_dir.iterdir()) == ["broker"]
