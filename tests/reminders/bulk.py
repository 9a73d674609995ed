"""Many deadlines in one SQL statement, for the sweep's EXPLAIN test and bench/sweep_bench.py.

Deadlines 1..due are open with their reminder due (and overdue); of the rest, six in ten are
closed (nothing scheduled) and four in ten are open with their next reminder still to come.
Parameters: now, ct (a content type id), owner (a user id), due, total, key.
"""

INSERT_DEADLINES = """
INSERT INTO reminders_deadline (
    created_at, updated_at, kind, content_type_id, object_id, key, trial_id, title, url,
    owner_id, escalation_user_id, due_at, state, done_at, remind_at, escalate_at,
    next_reminder_at, last_reminded_at, escalated_at, reminders_sent, delivery_failed_at,
    revision)
SELECT
    %(now)s, %(now)s, 'task', %(ct)s, g, %(key)s, NULL, 'Deadline ' || g, '',
    %(owner)s, NULL,
    CASE WHEN g <= %(due)s THEN %(now)s - make_interval(hours => g)
         ELSE %(now)s + make_interval(mins => g) END,
    CASE WHEN g > %(due)s AND g %% 10 < 6 THEN 'done' ELSE 'open' END,
    CASE WHEN g > %(due)s AND g %% 10 < 6 THEN %(now)s END,
    sched.at, NULL, sched.at, NULL, NULL, 0, NULL, 1
FROM generate_series(1, %(total)s) AS g
CROSS JOIN LATERAL (
    SELECT CASE WHEN g <= %(due)s THEN %(now)s - make_interval(secs => g)
                WHEN g %% 10 < 6 THEN NULL
                ELSE %(now)s + make_interval(mins => g) END AS at
) AS sched
"""
