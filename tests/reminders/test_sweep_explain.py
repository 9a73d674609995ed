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

pytestmark = pytest.mark.postgres

TOTAL = 50_000
DUE = 300

# Deadlines 1..DUE are open and overdue (their reminder is due now); of the rest, six in ten
# are closed (nothing scheduled) and four in ten are open with their next reminder to come.
INSERT = """
INSERT INTO reminders_deadline (
    created_at, updated_at, kind, content_type_id, object_id, key, trial_id, title, url,
    owner_id, escalation_user_id, due_at, state, done_at, remind_at, escalate_at,
    next_reminder_at, last_reminded_at, escalated_at, reminders_sent, delivery_failed_at)
SELECT
    %(now)s, %(now)s, 'task', %(ct)s, g, 'explain', NULL, 'Deadline ' || g, '',
    %(owner)s, NULL,
    CASE WHEN g <= %(due)s THEN %(now)s - make_interval(hours => g)
         ELSE %(now)s + make_interval(mins => g) END,
    CASE WHEN g > %(due)s AND g %% 10 < 6 THEN 'done' ELSE 'open' END,
    CASE WHEN g > %(due)s AND g %% 10 < 6 THEN %(now)s END,
    sched.at, NULL, sched.at, NULL, NULL, 0, NULL
FROM generate_series(1, %(total)s) AS g
CROSS JOIN LATERAL (
    SELECT CASE WHEN g <= %(due)s THEN %(now)s - make_interval(secs => g)
                WHEN g %% 10 < 6 THEN NULL
                ELSE %(now)s + make_interval(mins => g) END AS at
) AS sched
"""


def test_the_sweep_select_uses_the_partial_index(postgres):
    owner = User.objects.create_user(username="explain_owner", password="x")
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(INSERT, {"now": now, "ct": ContentType.objects.get_for_model(User).pk,
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
