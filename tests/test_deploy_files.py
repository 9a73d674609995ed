"""Static checks of Dockerfile and docker-compose.yml: no Docker engine, no DB."""

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"

ALL_SERVICES = ("postgres", "redis", "dbroles", "migrate", "web", "worker", "beat")
APP_SERVICES = ("migrate", "web", "worker", "beat")
HEALTHCHECKED = ("postgres", "redis", "web", "worker")
INTERPOLATION = re.compile(r"^\$\{[A-Z_][A-Z0-9_]*(?::?[-?][^}]*)?\}$")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose: dict) -> dict:
    return compose["services"]


@pytest.fixture(scope="module")
def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs; comments dropped, continuations joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    instructions = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        keyword, _, args = stripped.partition(" ")
        instructions.append((keyword.upper(), args.strip()))
    return instructions


def _environment(service: dict) -> dict:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return env


def test_all_services_are_defined(services: dict) -> None:
    assert set(ALL_SERVICES) <= set(services)


@pytest.mark.parametrize("name", HEALTHCHECKED)
def test_service_has_healthcheck(services: dict, name: str) -> None:
    healthcheck = services[name].get("healthcheck")
    assert healthcheck, f"{name} has no healthcheck"
    assert not healthcheck.get("disable", False)
    assert healthcheck.get("test")


def test_web_healthcheck_hits_healthz(services: dict) -> None:
    assert "/healthz/" in str(services["web"]["healthcheck"]["test"])


def test_worker_healthcheck_escapes_hostname_for_compose(services: dict) -> None:
    test = str(services["worker"]["healthcheck"]["test"])
    assert "inspect ping" in test
    assert "celery@$$HOSTNAME" in test


@pytest.mark.parametrize("name", ["web", "worker", "beat"])
def test_long_running_services_wait_for_migrate(services: dict, name: str) -> None:
    depends_on = services[name]["depends_on"]
    assert depends_on["migrate"]["condition"] == "service_completed_successfully"
    assert depends_on["postgres"]["condition"] == "service_healthy"
    assert depends_on["redis"]["condition"] == "service_healthy"


def test_migrate_runs_migrations_once(services: dict) -> None:
    migrate = services["migrate"]
    assert "migrate" in migrate["command"]
    assert migrate.get("restart") == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert migrate["depends_on"]["dbroles"]["condition"] == "service_completed_successfully"


def _login(url: str) -> tuple[str | None, str | None, str]:
    parts = urlsplit(url)
    return parts.username, parts.hostname, parts.path


@pytest.mark.parametrize("name", ["web", "worker", "beat"])
def test_long_running_services_log_in_as_the_runtime_role_only(
    services: dict, name: str
) -> None:
    env = _environment(services[name])
    assert _login(env["DATABASE_URL"]) == ("croportal_app", "postgres", "/croportal")
    assert "DATABASE_OWNER_URL" not in env  # the owner's password never reaches them


def test_only_migrate_logs_in_as_the_owner_of_the_same_database(services: dict) -> None:
    env = _environment(services["migrate"])
    assert _login(env["DATABASE_OWNER_URL"]) == ("croportal_owner", "postgres", "/croportal")
    assert _login(env["DATABASE_URL"]) == ("croportal_app", "postgres", "/croportal")
    for url in (env["DATABASE_OWNER_URL"], env["DATABASE_URL"]):
        password = urlsplit(url).password or ""
        assert re.fullmatch(r"\$\{[A-Z_]+:-[^}]*\}", password), url  # from the environment


def test_the_postgres_superuser_is_neither_owner_nor_runtime_role(services: dict) -> None:
    superuser = _environment(services["postgres"])["POSTGRES_USER"]
    assert superuser not in {"croportal_owner", "croportal_app"}
    dbroles = services["dbroles"]
    assert _environment(dbroles)["PGUSER"] == superuser
    assert dbroles.get("restart") == "no"
    assert dbroles["depends_on"]["postgres"]["condition"] == "service_healthy"
    script = " ".join(dbroles["command"])
    for role in ("croportal_owner", "croportal_app"):
        assert f"ALTER ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE" in script
    assert "CREATE DATABASE croportal OWNER croportal_owner" in script
    assert "ALTER DATABASE croportal OWNER TO croportal_owner" in script
    assert ":'owner_password'" in script
    assert ":'app_password'" in script


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_run_with_debug_off(services: dict, name: str) -> None:
    assert _environment(services[name]).get("DEBUG") == "false"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_secret_key_is_interpolated_not_committed(services: dict, name: str) -> None:
    secret_key = _environment(services[name]).get("SECRET_KEY")
    assert isinstance(secret_key, str)
    assert INTERPOLATION.match(secret_key), f"{name}: SECRET_KEY must be ${{...}}"
    # Required, with no committed fallback value.
    assert "?" in secret_key
    assert ":-" not in secret_key


def test_no_literal_secret_key_anywhere_in_compose_file() -> None:
    for line in COMPOSE_FILE.read_text().splitlines():
        code = line.split("#", 1)[0]
        if "SECRET_KEY:" in code:
            value = code.split("SECRET_KEY:", 1)[1].strip()
            assert INTERPOLATION.match(value), line


@pytest.mark.parametrize("name", ["migrate", "beat"])
def test_non_http_app_services_disable_image_healthcheck(
    services: dict, name: str
) -> None:
    # The image's HEALTHCHECK probes HTTP on :8000, which only web serves.
    assert services[name]["healthcheck"].get("disable") is True


def test_named_volumes_for_data(compose: dict, services: dict) -> None:
    volumes = set(compose.get("volumes") or {})
    for service, target in (
        ("postgres", "/var/lib/postgresql/data"),
        ("redis", "/data"),
        ("web", "/app/var/media"),
        # Document files and finished exports: the workers write what the web hands out.
        ("web", "/app/var/documents"),
        ("worker", "/app/var/documents"),
        ("web", "/app/var/exports"),
        ("worker", "/app/var/exports"),
        ("worker-imports", "/app/var/exports"),
    ):
        mounts = [str(mount).split(":") for mount in services[service]["volumes"]]
        assert any(
            len(m) >= 2 and m[0] in volumes and m[1] == target for m in mounts
        ), service


def test_dockerfile_is_multi_stage(
    dockerfile_instructions: list[tuple[str, str]],
) -> None:
    stages = [args for keyword, args in dockerfile_instructions if keyword == "FROM"]
    assert len(stages) >= 3
    assert stages[0].startswith("node:")
    assert stages[-1].startswith("python:3.11")


def test_dockerfile_runs_as_non_root_user(
    dockerfile_instructions: list[tuple[str, str]],
) -> None:
    users = [args for keyword, args in dockerfile_instructions if keyword == "USER"]
    assert users, "no USER instruction"
    user = users[-1].split(":", 1)[0]
    assert user not in {"root", "0"}


def test_dockerfile_has_healthcheck(
    dockerfile_instructions: list[tuple[str, str]],
) -> None:
    healthchecks = [
        args for keyword, args in dockerfile_instructions if keyword == "HEALTHCHECK"
    ]
    assert healthchecks
    assert "/healthz/" in healthchecks[-1]
    assert not healthchecks[-1].upper().startswith("NONE")


def test_dockerfile_bakes_no_secret_into_env(
    dockerfile_instructions: list[tuple[str, str]],
) -> None:
    for keyword, args in dockerfile_instructions:
        if keyword in {"ENV", "ARG"}:
            assert "SECRET_KEY" not in args
