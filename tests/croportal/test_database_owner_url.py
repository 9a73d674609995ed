"""DATABASE_OWNER_URL: the owner login of DATABASE_URL's database, one role for both when unset;
a URL naming another database, or an owner beside an anonymous runtime login, stops start-up."""

import runpy
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

SETTINGS = Path(__file__).resolve().parents[2] / "croportal" / "settings.py"
RUNTIME = "postgres://portal_app:app-secret@db.internal:5433/portal"


def read_settings(monkeypatch, **env: str) -> dict:
    for name in ("DATABASE_URL", "DATABASE_OWNER_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS))


def test_without_an_owner_url_the_runtime_login_also_owns(monkeypatch):
    settings = read_settings(monkeypatch, DATABASE_URL=RUNTIME)
    assert settings["DATABASE_OWNER"] == {"USER": "portal_app", "PASSWORD": "app-secret",
                                          "HOST": "db.internal", "PORT": 5433}


def test_the_embedded_default_needs_no_owner(monkeypatch):
    settings = read_settings(monkeypatch)
    assert settings["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert settings["DATABASE_OWNER"] == {"USER": "", "PASSWORD": "", "HOST": "", "PORT": ""}


def test_the_owner_url_gives_the_owner_login_and_leaves_the_runtime_one(monkeypatch):
    settings = read_settings(
        monkeypatch, DATABASE_URL=RUNTIME,
        DATABASE_OWNER_URL="postgres://portal_owner:owner-secret@db-primary.internal/portal")
    assert settings["DATABASE_OWNER"] == {"USER": "portal_owner", "PASSWORD": "owner-secret",
                                          "HOST": "db-primary.internal", "PORT": ""}
    runtime = settings["DATABASES"]["default"]
    assert (runtime["USER"], runtime["PASSWORD"], runtime["NAME"]) == (
        "portal_app", "app-secret", "portal")


@pytest.mark.parametrize(("owner_url", "message"), [
    ("postgres://portal_owner@db.internal:5433/elsewhere", "same database"),
    ("sqlite:///portal", "same database"),
    ("mysql://portal_owner@db.internal/portal", "DATABASE_OWNER_URL must be a postgres"),
])
def test_an_owner_url_of_another_database_stops_start_up(monkeypatch, owner_url, message):
    with pytest.raises(ImproperlyConfigured, match=message) as refusal:
        read_settings(monkeypatch, DATABASE_URL=RUNTIME, DATABASE_OWNER_URL=owner_url)
    assert "DATABASE_OWNER_URL" in str(refusal.value)


def test_an_owner_beside_an_anonymous_runtime_login_stops_start_up(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL must name its role"):
        read_settings(monkeypatch, DATABASE_URL="postgres://db.internal/portal",
                      DATABASE_OWNER_URL="postgres://portal_owner@db.internal/portal")
