"""Two database logins: the portal runs as DATABASE_URL's role, which owns nothing;
migrations and post_migrate run as DATABASE_OWNER_URL's role, which owns the schema. So the
app's own login cannot TRUNCATE the audit trail, drop or disable its triggers, or replace the
trigger function (21 CFR 11.10(e): audit trails the application cannot erase)."""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction

# What makes a login; the database (NAME) and everything else stay those of DATABASE_URL.
LOGIN_KEYS = ("USER", "PASSWORD", "HOST", "PORT")


def _login(settings_dict: dict) -> dict:
    return {key: settings_dict.get(key) or "" for key in LOGIN_KEYS}


def runtime_login(alias: str = DEFAULT_DB_ALIAS) -> dict:
    """The login the portal runs as (DATABASE_URL)."""
    return _login(settings.DATABASES[alias])


def owner_login(alias: str = DEFAULT_DB_ALIAS) -> dict | None:
    """The owner's login (DATABASE_OWNER_URL) when it differs from the runtime one, else None."""
    if alias != DEFAULT_DB_ALIAS or connections[alias].vendor != "postgresql":
        return None
    owner = _login(settings.DATABASE_OWNER)
    return owner if owner != runtime_login(alias) else None


def runtime_role(alias: str = DEFAULT_DB_ALIAS) -> str | None:
    """The runtime role to grant privileges to, when another role owns the schema."""
    owner = owner_login(alias)
    runtime = runtime_login(alias)["USER"]
    return runtime if owner is not None and owner["USER"] != runtime else None


@contextmanager
def _logged_in_as(alias: str, login: dict) -> Iterator[None]:
    """Reconnect `alias` with `login` for the block, then as before (re-entrant)."""
    connection = connections[alias]
    if _login(connection.settings_dict) == login:
        yield
        return
    if connection.in_atomic_block:
        raise RuntimeError(
            "cannot switch database roles inside a transaction (use a transactional test)"
        )
    before = connection.settings_dict
    connection.close()
    # A copy for this connection only: other threads keep connecting as the runtime role.
    connection.settings_dict = {**before, **login}
    try:
        yield
    finally:
        during = connection.settings_dict
        connection.close()
        connection.settings_dict = before
        # Keep what changed meanwhile (the test database's NAME set by create_test_db).
        before.update({key: value for key, value in during.items() if key not in LOGIN_KEYS})


@contextmanager
def as_owner(alias: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Run the block as the owner role; a no-op when there is no separate owner (SQLite)."""
    login = owner_login(alias)
    if login is None:
        yield
        return
    with _logged_in_as(alias, login):
        yield


@contextmanager
def as_runtime(alias: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Run the block as the runtime role, e.g. the tests inside the owner's test setup."""
    if owner_login(alias) is None:
        yield
        return
    with _logged_in_as(alias, runtime_login(alias)):
        yield


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def runtime_privileges_sql(*, runtime: str, owner: str, schema: str,
                           append_only: Iterable[str], read_only: Iterable[str]) -> list[str]:
    """Statements giving the runtime role exactly what the portal needs and nothing more:
    rows of ordinary tables; SELECT and INSERT on append-only ones; no TRUNCATE, REFERENCES,
    TRIGGER or DDL; the same for tables later migrations create (default privileges)."""
    role, owner, schema = _quote(runtime), _quote(owner), _quote(schema)
    tables = f"ALL TABLES IN SCHEMA {schema}"
    sequences = f"ALL SEQUENCES IN SCHEMA {schema}"
    default = f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema}"
    return [
        f"REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC",
        f"REVOKE ALL ON SCHEMA {schema} FROM {role}",
        f"GRANT USAGE ON SCHEMA {schema} TO {role}",
        f"REVOKE ALL ON {tables} FROM {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {tables} TO {role}",
        *(f"REVOKE UPDATE, DELETE ON {_quote(table)} FROM {role}" for table in append_only),
        *(f"REVOKE INSERT, UPDATE, DELETE ON {_quote(table)} FROM {role}" for table in read_only),
        f"REVOKE ALL ON {sequences} FROM {role}",
        f"GRANT USAGE, SELECT ON {sequences} TO {role}",
        f"{default} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
        f"{default} GRANT USAGE, SELECT ON SEQUENCES TO {role}",
    ]


def runtime_privileges_grant(*, using: str, append_only: Iterable[str]) -> None:
    """post_migrate, as the owner: (re)grant the runtime role its privileges, in one
    transaction so that a running portal never sees them missing."""
    runtime = runtime_role(using)
    if runtime is None:  # SQLite, or one role for both: nothing to separate
        return
    connection = connections[using]
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute("SELECT current_user, current_schema()")
        owner, schema = cursor.fetchone()
        # Only migrate writes the migration records; the portal merely reads them.
        statements = runtime_privileges_sql(runtime=runtime, owner=owner, schema=schema,
                                            append_only=append_only,
                                            read_only=["django_migrations"])
        for statement in statements:
            cursor.execute(statement)
