"""Shared fixtures: the personas of STYLE.md, built through the real assignment services."""

import copy
import os
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connection, transaction
from django.test.utils import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from croportal.dbroles import as_owner, as_runtime
from reminders.models import ExportJob, Notification
from reminders.services import deadline_create_manual
from safety.ctcae import read_facts_file
from safety.models import CtcaeTerm
from safety.services import adverse_event_create, ctcae_load
from sites.models import EssentialDocument, Site
from sites.services import (
    consent_record,
    document_create,
    document_update,
    required_document_kinds,
    site_consent_version_add,
    site_create,
    site_transition,
    subject_create,
)
from staffing.models import Organisation, Role, User
from staffing.services import assignment_start
from trials.services import (
    amendment_create,
    consent_version_create,
    milestone_create,
    trial_create,
)

PASSWORD = "correct-horse-battery-staple"
IN_CI = os.environ.get("CI", "").lower() == "true"
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# trial, site, crm, cra, cra_assignment, admin: a small study built by factories.
pytest_plugins = ["tests.study"]

# ------------------------------------------------------------ parallel runs (pytest-xdist)
# `make test` runs the suite in xdist workers ("gw0", "gw1", ...). Each has its own test
# database (pytest-django suffixes the PostgreSQL one: test_croportal_gw0, ...; SQLite's is in
# memory), its own Redis database number (below), its own live server (port 0: the OS picks a
# free one) and its own Chromium. Celery worker subprocesses consume private queues
# (tests/integration) and use the test database of the xdist worker that started them.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
REDIS_DATABASES = 16  # redis-server's default `databases`


def redis_url_for_worker(url: str, worker: str) -> str:
    """REDIS_URL with a database number of this xdist worker's own: gw0 the next one after
    REDIS_URL's, gw1 the one after, and so on, so that no worker's keys, queues or cache flush
    meet another's. Outside xdist, REDIS_URL as it is."""
    if not worker.startswith("gw"):
        return url
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    number = (base + 1 + int(worker[2:])) % REDIS_DATABASES
    return urlunsplit(parts._replace(path=f"/{number}"))


def _give_this_worker_its_own_redis() -> None:
    """Point everything of this process that speaks to Redis at the worker's own database:
    the environment (the redis_url fixture, worker subprocesses), the Celery app the tests
    publish with, and the cache when CACHE_USE_REDIS makes Redis the cache."""
    shared = os.environ.get("REDIS_URL")
    if not shared:
        return
    own = redis_url_for_worker(shared, XDIST_WORKER)
    if own == shared:
        return
    os.environ["REDIS_URL"] = own
    django_settings.REDIS_URL = own
    if shared == django_settings.CELERY_BROKER_URL:
        django_settings.CELERY_BROKER_URL = own
    cache_config = django_settings.CACHES["default"]
    if cache_config.get("LOCATION") == shared:
        django_settings.CACHES = {**django_settings.CACHES,
                                  "default": {**cache_config, "LOCATION": own}}
        from django.core.cache import caches

        caches.__dict__.pop("settings", None)  # rebuilt from the new CACHES on next use
    from croportal.celery import app

    app.conf.broker_url = own
    app._pool = None  # no connection was made yet; drop any pool all the same
    app.amqp._producer_pool = None


_give_this_worker_its_own_redis()


def need_service(available: bool, reason: str) -> None:
    """Skip without the service locally; under CI=true a missing service is a failure."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: services must be present)")
    pytest.skip(reason)


@pytest.fixture
def postgres(db):
    need_service(connection.vendor == "postgresql", "needs PostgreSQL: set DATABASE_URL")


@pytest.fixture
def redis_url():
    url = os.environ.get("REDIS_URL")
    need_service(bool(url), "needs Redis: set REDIS_URL")
    return url


@pytest.fixture(scope="session")
def _database_owner_for_setup():
    """Entered before pytest-django's django_db_setup: the owner role (DATABASE_OWNER_URL)
    creates and migrates the test database, and drops it at the end."""
    with as_owner():
        yield


@pytest.fixture(scope="session")
def django_db_setup(_database_owner_for_setup, django_db_setup, django_db_blocker, request):
    """pytest-django's, then the tests run as the runtime role (DATABASE_URL), which owns
    nothing: the whole suite shows the portal works with the runtime privileges alone.
    When some test will ask for `world`, its rows are built once here (WorldSnapshot)."""
    with as_runtime():
        if any(uses_world_snapshot(item) for item in request.session.items):
            with django_db_blocker.unblock():
                WORLD_SNAPSHOT.capture()
        yield


@pytest.fixture(autouse=True)
def _fast_passwords_and_fresh_cache(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS
    cache.clear()  # API throttling counts live in the cache (this xdist worker's own)


def make_user(username: str, organisation: Organisation | None, **extra) -> User:
    return User.objects.create_user(
        username=username, password=PASSWORD, organisation=organisation,
        first_name=username.split("_")[0].title(), last_name="Tester", **extra,
    )


def activate_site(site: Site, *, by: User, on: date | None = None) -> Site:
    """File the site's required documents, execute its contract, record its SIV and activate
    it through the real gate (documents bulk-created: fixtures need speed, not their history)."""
    on = on or timezone.localdate() - timedelta(days=60)
    EssentialDocument.objects.bulk_create([
        EssentialDocument(site=site, kind=kind, version="1", effective_on=on, status="approved")
        for kind in required_document_kinds(trial=site.trial)
    ])
    Site.objects.filter(pk=site.pk).update(status="initiated", contract_executed_on=on,
                                           initiation_visit_on=on)
    site.refresh_from_db()
    return site_transition(site=site, to="active", by=by, reason="Checklist complete")


def approved_document(*, site: Site, filer: User, approver: User, **fields) -> EssentialDocument:
    """A document filed by one person and approved by another (the four-eyes rule)."""
    document = document_create(site=site, by=filer, status="received", **fields)
    return document_update(document=document, by=approver, reason="Reviewed",
                           status="approved")


def build_world() -> SimpleNamespace:
    """Trial A (sponsor A) and trial B (sponsor B); a CRM, a CRA on one site, a medical
    monitor and a sponsor viewer of A; an outsider who is sponsor viewer of B."""
    w = SimpleNamespace()
    w.cro = Organisation.objects.create(name="Test CRO", kind="CRO")
    w.sponsor_a = Organisation.objects.create(name="Sponsor A", kind="SPONSOR")
    w.sponsor_b = Organisation.objects.create(name="Sponsor B", kind="SPONSOR")
    w.admin = make_user("admin_user", w.cro, is_staff=True, is_superuser=True)
    w.crm = make_user("crm_a", w.cro)
    w.crm_b = make_user("crm_b", w.cro)
    w.cra = make_user("cra_a1", w.cro)
    w.monitor = make_user("monitor_a", w.cro)
    w.sponsor = make_user("sponsor_viewer_a", w.sponsor_a)
    w.outsider = make_user("outsider_b", w.sponsor_b)
    w.trial_a = trial_create(by=w.admin, protocol_number="A-001", title="Trial A",
                             sponsor=w.sponsor_a, phase="II", target_enrollment=100,
                             ind_number="123456")
    w.trial_b = trial_create(by=w.admin, protocol_number="B-001", title="Trial B",
                             sponsor=w.sponsor_b, phase="III", target_enrollment=50)
    w.site_a1 = activate_site(site_create(trial=w.trial_a, by=w.admin, number="101",
                                          institution="Alpha", country="DE",
                                          target_enrollment=10), by=w.admin)
    w.site_a2 = site_create(trial=w.trial_a, by=w.admin, number="102", institution="Beta",
                            country="FR", target_enrollment=10)
    w.site_b1 = activate_site(site_create(trial=w.trial_b, by=w.admin, number="201",
                                          institution="Gamma", country="US"), by=w.admin)
    since = {"by": w.admin, "start_date": timezone.localdate() - timedelta(days=30)}
    assignment_start(user=w.crm, trial=w.trial_a, role=Role.CRM, **since)
    assignment_start(user=w.crm_b, trial=w.trial_b, role=Role.CRM, **since)
    w.cra_assignment = assignment_start(user=w.cra, trial=w.trial_a, site=w.site_a1,
                                        role=Role.CRA, **since)
    assignment_start(user=w.monitor, trial=w.trial_a, role=Role.MEDICAL_MONITOR, **since)
    assignment_start(user=w.sponsor, trial=w.trial_a, role=Role.SPONSOR_VIEWER, **since)
    assignment_start(user=w.outsider, trial=w.trial_b, role=Role.SPONSOR_VIEWER, **since)
    # Regulated records of trial conduct, each made through its service (all with history rows);
    # none opens a deadline (reached milestone, undated document, consent before subjects).
    w.milestone_a = milestone_create(trial=w.trial_a, by=w.admin, kind="protocol_final",
                                     planned_date=date(2026, 1, 15), actual_date=date(2026, 1, 20))
    w.amendment_a = amendment_create(trial=w.trial_a, by=w.admin, version="1.1",
                                     approved_on=date(2026, 3, 1), summary="Dose table fixed")
    w.icf_a = consent_version_create(trial=w.trial_a, by=w.admin, version="1.0")
    w.site_icf_a1 = site_consent_version_add(site=w.site_a1, consent_version=w.icf_a, by=w.admin,
                                             ethics_approved_on=date(2026, 2, 1),
                                             effective_on=date(2026, 2, 10))
    w.document_a1 = approved_document(site=w.site_a1, filer=w.cra, approver=w.admin,
                                      kind="delegation_log", version="3",
                                      effective_on=date(2026, 4, 1))
    w.milestone_b = milestone_create(trial=w.trial_b, by=w.admin, kind="protocol_final",
                                     planned_date=date(2026, 2, 1), actual_date=date(2026, 2, 1))
    w.document_a2 = document_create(site=w.site_a2, by=w.admin, kind="delegation_log",
                                    version="1", status="received")
    w.document_b1 = approved_document(site=w.site_b1, filer=w.crm_b, approver=w.admin,
                                      kind="delegation_log", version="1",
                                      effective_on=date(2026, 4, 1))
    w.subject_a1 = subject_create(site=w.site_a1, by=w.admin, number="101-001",
                                  status="enrolled", enrolled_on=date(2026, 5, 1))
    w.consent_a1 = consent_record(subject=w.subject_a1, consent_version=w.icf_a,
                                  consented_on=date(2026, 4, 20), by=w.admin)
    w.subject_a2 = subject_create(site=w.site_a2, by=w.admin, number="102-001")
    w.subject_b1 = subject_create(site=w.site_b1, by=w.admin, number="201-001",
                                  status="enrolled", enrolled_on=date(2026, 5, 2))
    if not CtcaeTerm.objects.exists():  # a transactional test's flush empties the dictionary
        ctcae_load(rows=read_facts_file(django_settings.CTCAE_FACTS_FILE))
    term = CtcaeTerm.objects.get(term="Febrile neutropenia")
    aware = datetime(2026, 6, 1, 9, tzinfo=UTC)
    ae = {"verbatim_term": "neutropenic fever", "term": term, "onset_date": date(2026, 5, 31),
          "severity_grade": 3, "seriousness_criteria": ["hospitalization"],
          "investigator_causality": "related", "site_awareness_at": aware,
          "sponsor_awareness_at": aware}
    w.ae_a1 = adverse_event_create(subject=w.subject_a1, by=w.admin, **ae)
    w.ae_a2 = adverse_event_create(subject=w.subject_a2, by=w.admin, **ae)
    w.ae_b1 = adverse_event_create(subject=w.subject_b1, by=w.admin, **ae)
    soon = timezone.now() + timedelta(days=2)
    w.deadline_a = deadline_create_manual(
        by=w.crm, kind="task", trial=w.trial_a, site=w.site_a1, owner=w.cra, due_at=soon,
        title="Chase the signed CV of site 101", escalation_user=w.crm)
    w.deadline_b = deadline_create_manual(
        by=w.crm_b, kind="task", trial=w.trial_b, owner=w.crm_b, due_at=soon,
        title="Trial B budget sign-off")
    w.export_crm = ExportJob.objects.create(created_by=w.crm, spec="trials.lists.TRIALS",
                                            title="Trials", format="csv")
    w.notification_cra = Notification.objects.create(
        user=w.cra, kind="task", message="Due soon: Chase the signed CV of site 101",
        url=f"/sites/{w.site_a1.pk}/", deadline=w.deadline_a)
    return w


def commits(item: pytest.Item) -> bool:
    """Whether the test commits (transactional_db, live_server, transaction=True): its
    teardown then flushes every table, the rows data migrations wrote included."""
    marker = item.get_closest_marker("django_db")
    fixtures = getattr(item, "fixturenames", ())
    return bool(
        (marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")))
        or "transactional_db" in fixtures or "live_server" in fixtures
        or "django_db_reset_sequences" in fixtures
    )


def uses_world_snapshot(item: pytest.Item) -> bool:
    return "world" in getattr(item, "fixturenames", ()) and not commits(item)


class WorldSnapshot:
    """The rows build_world() writes, built once per test session (per xdist worker) through
    the real services and rolled back; a test asking for `world` gets the same rows inserted
    again inside its own transaction (same primary keys, history rows, object permissions)
    and a fresh deep copy of the objects build_world() returned, as Django's
    TestCase.setUpTestData gives each test. A few milliseconds instead of half a second.

    build_world() itself runs instead for a test that commits, once any test has committed
    (its flush emptied the tables the rows point to: content types, permissions, CTCAE
    terms), and on another day than the snapshot's (build_world() dates from today)."""

    def __init__(self) -> None:
        self.world: SimpleNamespace | None = None
        self.inserts: list[tuple[str, list]] = []
        self.made_on: date | None = None
        self.stale = False

    @staticmethod
    def _tables() -> list[tuple[type, list]]:
        tables = []
        for model in apps.get_models(include_auto_created=True):
            if model._meta.managed and not model._meta.proxy:
                fields = [field for field in model._meta.local_concrete_fields
                          if not field.generated]  # the database computes those
                if model._meta.pk in fields:
                    tables.append((model, fields))
        return tables

    @staticmethod
    def _rows(model: type, fields: list) -> dict:
        names = [field.attname for field in fields]
        pk = names.index(model._meta.pk.attname)
        rows = model._base_manager.using(DEFAULT_DB_ALIAS).values_list(*names)
        return {row[pk]: row for row in rows}

    def capture(self) -> None:
        """Outside any test: build the world in a transaction, keep its rows, roll back."""
        self.world, self.inserts, self.stale = None, [], False
        tables = self._tables()
        before = {model: self._rows(model, fields) for model, fields in tables}
        added: list[tuple[type, list, list]] = []
        with override_settings(PASSWORD_HASHERS=FAST_HASHERS), transaction.atomic():
            cache.clear()
            world = build_world()
            after = {model: self._rows(model, fields) for model, fields in tables}
            transaction.set_rollback(True)
        cache.clear()
        for model, fields in tables:
            old, new = before[model], after[model]
            if any(new.get(pk) != row for pk, row in old.items()):
                # It changed or deleted rows it did not make: replaying its new rows would
                # not reproduce it, so every test builds its own world instead.
                return
            made = [row for pk, row in new.items() if pk not in old]
            if made:
                added.append((model, fields, made))
        quote = connection.ops.quote_name
        limit = connection.features.max_query_params
        top_ids: dict[str, int] = {}
        for model, fields, rows in added:
            table = model._meta.db_table
            columns = ", ".join(quote(field.column) for field in fields)
            one_row = "(" + ", ".join(["%s"] * len(fields)) + ")"
            per_statement = max(1, limit // len(fields)) if limit else len(rows)
            for start in range(0, len(rows), per_statement):
                batch = rows[start:start + per_statement]
                values = ", ".join([one_row] * len(batch))
                sql = f"INSERT INTO {quote(table)} ({columns}) VALUES {values}"  # noqa: S608
                params = [field.get_db_prep_save(value, connection)
                          for row in batch for field, value in zip(fields, row, strict=True)]
                self.inserts.append((sql, params))
            pk = fields.index(model._meta.pk)
            ids = [row[pk] for row in rows]
            if all(isinstance(value, int) for value in ids):
                top_ids[table] = max(ids)
        if connection.vendor == "sqlite":
            # PostgreSQL's sequences stay past the rolled-back ids; SQLite's AUTOINCREMENT
            # counters are made to as well, so that rows a test makes never take those ids.
            with connection.cursor() as cursor:
                for table, top in top_ids.items():
                    cursor.execute("UPDATE sqlite_sequence SET seq = MAX(seq, %s) WHERE name = %s",
                                   [top, table])
                    if cursor.rowcount == 0:
                        cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)",
                                       [table, top])
        self.world, self.made_on = world, timezone.localdate()

    def usable(self) -> bool:
        return (self.world is not None and not self.stale
                and self.made_on == timezone.localdate())

    def restore(self) -> SimpleNamespace:
        """Inside the test's transaction: the rows again, and a copy of the objects."""
        with connection.cursor() as cursor:
            for sql, params in self.inserts:
                cursor.execute(sql, params)
        return copy.deepcopy(self.world)


WORLD_SNAPSHOT = WorldSnapshot()


@pytest.fixture
def world(request, db) -> SimpleNamespace:
    if not commits(request.node) and WORLD_SNAPSHOT.usable():
        return WORLD_SNAPSHOT.restore()
    return build_world()


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    if commits(item):
        WORLD_SNAPSHOT.stale = True  # its flush emptied the tables the snapshot points to


@pytest.fixture
def api():
    return APIClient()


def api_as(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run tests that commit (live server, real worker) after the rollback-only ones, as Django
    does: their flush empties tables that data migrations filled. pytest-playwright re-sorts
    after pytest-django, so the order is restored here, last. Under xdist every worker runs
    the tests it is handed in this order too (--dist load and loadgroup hand them out in it)."""
    items.sort(key=commits)
