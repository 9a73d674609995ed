"""Settings come from the environment only; malformed values stop start-up loudly."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "x7#kq!2m" * 8,
    "ALLOWED_HOSTS": "portal.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://portal.example.org",
    "DATABASE_URL": "sqlite:///" + str(ROOT / "var" / "deploy-check.sqlite3"),
}


def run_django(args: list[str], **env: str) -> subprocess.CompletedProcess:
    # DJANGO_ALLOW_ASYNC_UNSAFE is set by the browser tests' conftest, never in deployment.
    dropped = {"DEBUG", "SECRET_KEY", "DATABASE_URL", "DATABASE_OWNER_URL", "REDIS_URL",
               "EMAIL_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in dropped}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env},
        capture_output=True, text=True, timeout=120, check=False,
    )


def test_check_deploy_is_clean_with_the_documented_production_variables():
    result = run_django(["check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEBUG", "maybe"),
        ("DATABASE_URL", "mysql-ish://nowhere"),
        ("REDIS_URL", "http://127.0.0.1:6379"),
        ("AXES_FAILURE_LIMIT", "five"),
        ("SESSION_COOKIE_AGE", "-3"),
    ],
)
def test_a_malformed_variable_stops_start_up_naming_it(name, value):
    result = run_django(["check"], **{name: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert name in result.stderr


def test_production_without_a_secret_key_refuses_to_start():
    env = {**PRODUCTION_ENV, "SECRET_KEY": ""}
    result = run_django(["check"], **env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_database_connections_persist_by_default_and_are_checked_before_reuse():
    probe = ("from django.db import connection as c; "
             "print(c.settings_dict['CONN_MAX_AGE'], c.settings_dict['CONN_HEALTH_CHECKS'])")
    assert run_django(["shell", "-v0", "-c", probe]).stdout.split() == ["60", "True"]
    assert run_django(["shell", "-v0", "-c", probe], DB_CONN_MAX_AGE="0").stdout.split() == [
        "0", "True"]
