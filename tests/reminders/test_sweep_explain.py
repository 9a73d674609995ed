"""The sweep's select reads the partial index `deadline_sweep`, not the whole deadline table:
on PostgreSQL, with ~50,000 deadlines of which a few hundred are due, EXPLAIN of the very
queryset `reminders_claim` evaluates shows the index and no sequential scan. The rows are
committed (a transactional test) so that the table's owner can ANALYZE them: the runtime role
the tests run as may not (croportal/dbroles.py)."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone

from croportal.dbroles import as_owner
from reminders import services
from reminders.models import Deadline
from staffing.models import User
from tests.conftest import need_service
from tests.reminders.bulk import INSERT_DEADLINES

pytestmark = pytest.mark.postgres

TOTAL = 50_000
DUE = 300


def test_the_sweep_select_uses_the_partial_index(transactional_db):
    need_service(connection.vendor == "postgresql", "needs PostgreSQL: set DATABASE_URL")
    owner = User.objects.create_user(username="explain_owner", password="x")
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(INSERT_DEADLINES, {
            "key": "explain", "now": now, "ct": ContentType.objects.get_for_model(User).pk,
            "owner": owner.pk, "due": DUE, "total": TOTAL})
    with as_owner(), connection.cursor() as cursor:
        cursor.execute("ANALYZE reminders_deadline")
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'reminders_deadline'")
        assert cursor.fetchone()[0] > TOTAL * 0.9  # analysed, not skipped for want of rights
    assert Deadline.objects.count() == TOTAL
    assert Deadline.objects.filter(next_reminder_at__lte=now, state="open").count() == DUE

    due = services.due_deadlines(now=now)
    with transaction.atomic():  # FOR UPDATE, as in the sweep's claim
        plan = due.explain()
        sql = str(due.query)
        rows = list(due)
    assert "deadline_sweep" in plan, plan
    assert any(scan in plan for scan in ("Index Scan using deadline_sweep",
                                         "Index Only Scan using deadline_sweep",
                                         "Bitmap Index Scan on deadline_sweep")), plan
    assert "Seq Scan on reminders_deadline" not in plan, plan
    assert "FOR UPDATE" in sql
    assert "SKIP LOCKED" in sql

    # The same queryset, evaluated, is exactly the due rows, earliest first.
    assert len(rows) == DUE
    stamps = [row.next_reminder_at for row in rows]
    assert stamps == sorted(stamps)
