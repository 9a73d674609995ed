"""With DEBUG=false the pages need collected static files (the manifest storage): a web
process started without them stops at once with what to do, instead of a 500 on every page
(issue 13.4)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def start(var_dir: Path, module: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DEBUG": "false", "SECRET_KEY": "s" * 64, "ALLOWED_HOSTS": "localhost",
           "VAR_DIR": str(var_dir), "DJANGO_SETTINGS_MODULE": "croportal.settings"}
    env.pop("STATIC_MANIFEST", None)
    return subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_web_start_up_stops_with_a_clear_message_without_collected_static(tmp_path):
    for module in ("croportal.wsgi", "croportal.asgi"):
        started = start(tmp_path, module)
        assert started.returncode != 0, module
        assert "The static files are not collected" in started.stderr
        assert "manage.py collectstatic" in started.stderr


def test_web_start_up_goes_on_once_they_are_collected(tmp_path):
    static_root = tmp_path / "staticfiles"
    static_root.mkdir()
    (static_root / "staticfiles.json").write_text(json.dumps({"paths": {}, "version": "1.1"}))
    started = start(tmp_path, "croportal.wsgi")
    assert started.returncode == 0, started.stderr
