"""The portal's own database login cannot erase the audit trail (21 CFR 11.10(e)):
it owns nothing, may only add rows to history and signature tables, and can neither TRUNCATE
them nor touch their triggers; migrate (and flush) run as the owner role."""

from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.db.models.signals import post_migrate

from croportal.audit import APPEND_ONLY_MODELS, append_only_tables, history_models
from croportal.dbroles import as_owner, owner_login, runtime_login, runtime_role
from staffing.models import Organisation, Signature
from tests.conftest import make_user, need_service
from trials.models import Trial
from trials.services import trial_create

HISTORY = Trial.history.model._meta.db_table
SIGNATURE = Signature._meta.db_table
REFUSED = "permission denied|must be owner"


def _needs_two_roles() -> SimpleNamespace:
    need_service(connection.vendor == "postgresql", "needs PostgreSQL: set DATABASE_URL")
    need_service(runtime_role() is not None,
                 "needs a runtime role apart from the owner: set DATABASE_OWNER_URL")
    return SimpleNamespace(runtime=runtime_login()["USER"], owner=owner_login()["USER"])


@pytest.fixture
def roles(db) -> SimpleNamespace:
    return _needs_two_roles()


@pytest.fixture
def committed_roles(transactional_db) -> SimpleNamespace:
    return _needs_two_roles()


def current_user() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        return cursor.fetchone()[0]


def a_trial(protocol_number: str = "ROLE-001") -> Trial:
    sponsor = Organisation.objects.create(name=f"Sponsor {protocol_number}", kind="SPONSOR")
    admin = make_user(f"admin_{protocol_number.lower()}", None, is_staff=True,
                      is_superuser=True)
    return trial_create(by=admin, protocol_number=protocol_number, title="Roles trial",
                        sponsor=sponsor, phase="II", target_enrollment=10)


def test_the_tests_and_the_portal_run_as_a_role_that_owns_nothing(roles):
    assert current_user() == roles.runtime != roles.owner
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_tables WHERE tableowner = current_user")
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
                       " AND tableowner = %s", [roles.owner])
        assert cursor.fetchone()[0] >= len(append_only_tables())
        cursor.execute("SELECT count(*) FROM pg_class WHERE relowner = "
                       "(SELECT oid FROM pg_roles WHERE rolname = current_user)")
        assert cursor.fetchone()[0] == 0  # no sequence, view or index either
        cursor.execute("SELECT count(*) FROM pg_proc WHERE proowner = "
                       "(SELECT oid FROM pg_roles WHERE rolname = current_user)")
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles"
                       " WHERE rolname = current_user")
        assert cursor.fetchone() == (False, False, False)


def test_every_history_and_signature_table_is_append_only():
    tables = set(append_only_tables())
    assert {model._meta.db_table for model in history_models()} <= tables
    assert {SIGNATURE, "staffing_signatureinvalidation"} <= tables
    assert "staffing.Signature" in APPEND_ONLY_MODELS


@pytest.mark.parametrize("statement", [
    "TRUNCATE {history}",
    "TRUNCATE {signature}",
    "TRUNCATE staffing_signatureinvalidation",
    "TRUNCATE {history}, {signature} CASCADE",
    "ALTER TABLE {history} DISABLE TRIGGER ALL",
    'ALTER TABLE {history} DISABLE TRIGGER "{history}_append_only"',
    'ALTER TABLE {signature} DISABLE TRIGGER "{signature}_append_only"',
    'DROP TRIGGER "{history}_append_only" ON {history}',
    'DROP TRIGGER "{signature}_append_only" ON {signature}',
    "CREATE OR REPLACE FUNCTION croportal_append_only() RETURNS trigger AS "
    "$$ BEGIN RETURN NEW; END; $$ LANGUAGE plpgsql",
    "DROP FUNCTION croportal_append_only() CASCADE",
    "UPDATE {history} SET history_change_reason = 'tampered'",
    "DELETE FROM {history}",
    "UPDATE {signature} SET content_hash = 'forged'",
    "DELETE FROM {signature}",
    "ALTER TABLE {history} RENAME TO hidden_history",
    "DROP TABLE {history}",
    "TRUNCATE trials_trial CASCADE",
    "ALTER TABLE trials_trial ADD COLUMN backdoor text",
    "CREATE TABLE public.backdoor (id int)",
    "DELETE FROM django_migrations",
])
def test_the_runtime_role_cannot_erase_or_unguard_the_audit_trail(roles, statement):
    trial = a_trial()
    assert trial.history.count() == 1
    with pytest.raises(DatabaseError, match=REFUSED), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute(statement.format(history=HISTORY, signature=SIGNATURE))
    assert trial.history.count() == 1
    assert Trial.objects.filter(pk=trial.pk).exists()


def test_the_runtime_role_writes_records_and_adds_history(roles):
    trial = a_trial()
    Trial.objects.filter(pk=trial.pk).update(title="Plain UPDATE of an ordinary table")
    Organisation.objects.create(name="Another CRO", kind="CRO")
    Organisation.objects.filter(name="Another CRO").delete()
    assert trial.history.count() == 1  # the INSERT into the history table went through
    assert Trial.objects.get(pk=trial.pk).title == "Plain UPDATE of an ordinary table"


def test_the_trigger_still_refuses_the_owner(committed_roles):
    trial = a_trial("ROLE-OWN")
    with as_owner():
        assert current_user() == committed_roles.owner
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), \
                connection.cursor() as cursor:
            cursor.execute(f"UPDATE {HISTORY} SET history_change_reason = 'x'")  # noqa: S608
    assert current_user() == committed_roles.runtime
    assert trial.history.get().history_change_reason == "Trial created"


def test_a_table_a_later_migration_creates_is_covered_before_post_migrate(committed_roles):
    with as_owner(), connection.cursor() as cursor:
        cursor.execute("CREATE TABLE croportal_probe (id bigserial PRIMARY KEY, note text)")
    try:
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO croportal_probe (note) VALUES ('from the portal')")
            cursor.execute("SELECT note FROM croportal_probe")
            assert cursor.fetchall() == [("from the portal",)]
            with pytest.raises(DatabaseError, match=REFUSED), transaction.atomic():
                cursor.execute("TRUNCATE croportal_probe")
    finally:
        with as_owner(), connection.cursor() as cursor:
            cursor.execute("DROP TABLE croportal_probe")


def test_migrate_runs_as_the_owner_then_the_portal_reconnects_as_the_runtime_role(
        committed_roles):
    seen: list[str] = []

    def who_migrates(**kwargs):
        seen.append(current_user())

    post_migrate.connect(who_migrates, dispatch_uid="test_who_migrates")
    try:
        call_command("migrate", verbosity=0, interactive=False)
    finally:
        post_migrate.disconnect(dispatch_uid="test_who_migrates")
    assert seen
    assert set(seen) == {committed_roles.owner}
    assert current_user() == committed_roles.runtime
    with pytest.raises(DatabaseError, match=REFUSED), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {SIGNATURE}")  # post_migrate granted no more than before


def test_switching_roles_inside_a_transaction_is_refused(roles):
    with pytest.raises(RuntimeError, match="inside a transaction"), as_owner():
        pass
    assert current_user() == roles.runtime
