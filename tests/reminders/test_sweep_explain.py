"""The sweep's select reads the partial index `deadline_sweep`, not the whole deadline table:
on PostgreSQL, with ~50,000 deadlines of which a few hundred are due, EXPLAIN of the very
queryset `reminders_claim` evaluates shows the index and no sequential scan."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone

from reminders import services
from reminders.models import Deadline
from staffing.models import User
from tests.reminders.bulk import INSERT_DEADLINES

pytestmark = pytest.mark.postgres

TOTAL = 50_000
DUE = 300



def test_the_sweep_select_uses_the_partial_index(postgres):
    owner = User.objects.create_user(username="explain_owner", password="x")
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(INSERT_DEADLINES, {
            "key": "explain", "now": now, "ct": ContentType.objects.get_for_model(User).pk,
            "owner": owner.pk, "due": DUE, "total": TOTAL})
        cursor.execute("ANALYZE reminders_deadline")
    assert Deadline.objects.count() == TOTAL
    assert Deadline.objects.filter(next_reminder_at__lte=now, state="open").count() == DUE

    due = services.due_deadlines(now)
    plan = due.explain()
    assert "deadline_sweep" in plan, plan
    assert any(scan in plan for scan in ("Index Scan using deadline_sweep",
                                         "Index Only Scan using deadline_sweep",
                                         "Bitmap Index Scan on deadline_sweep")), plan
    assert "Seq Scan on reminders_deadline" not in plan, plan
    assert "FOR UPDATE" in str(due.query)
    assert "SKIP LOCKED" in str(due.query)

    # The same queryset, evaluated, is exactly the due rows, earliest first.
    rows = list(due)
    assert len(rows) == DUE
    stamps = [row.next_reminder_at for row in rows]
    assert stamps == sorted(stamps)
