"""Benchmark of the reminders sweep: 1,000,000 deadlines of which 10,000 are due.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/sweep_bench.py [--profile]

DATABASE_URL names the PostgreSQL server (its database part is ignored): the script drops and
creates the database `croportal_bench` there, migrates it, inserts the deadlines with one
INSERT ... SELECT generate_series, then times

1. the claims: `reminders.services.reminders_claim` in a loop until it claims nothing (a whole
   sweep's database work, without publishing), and
2. the publishing of one delivery message per claimed reminder to Redis (the sweep's
   `reminders.tasks.dispatch`, which also stamps `dispatched_at`), on a throwaway queue whose
   keys are deleted afterwards. Skipped without REDIS_URL.

It prints the figures and the EXPLAIN (ANALYZE, BUFFERS) of the claim's select. --profile adds
a cProfile of the claims (top functions by cumulative time). See bench/README.md.
"""

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
BENCH_DB = "croportal_bench"
TOTAL = 1_000_000
DUE = 10_000



def say(text: str) -> None:
    print(text, flush=True)


def recreate_database(server_url: str) -> str:
    import psycopg2

    parts = urlsplit(server_url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql", "psql"):
        sys.exit("DATABASE_URL must be a postgres:// URL (the bench needs PostgreSQL)")
    admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    connection = psycopg2.connect(admin)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{BENCH_DB}"')
    connection.close()
    return urlunsplit(parts._replace(path=f"/{BENCH_DB}"))


def timed(label: str, function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    elapsed = time.perf_counter() - started
    say(f"{label}: {elapsed:.2f} s")
    return result, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", action="store_true", help="cProfile the claims")
    options = parser.parse_args()

    server_url = os.environ.get("DATABASE_URL")
    if not server_url:
        sys.exit("Set DATABASE_URL=postgres://USER@HOST:PORT/ANY (the server to bench on)")
    os.environ["DATABASE_URL"] = recreate_database(server_url)
    prefix = f"bench-sweep-{uuid.uuid4().hex[:12]}-"
    os.environ["CELERY_QUEUE_PREFIX"] = prefix  # deliveries go to throwaway queues
    queue = f"{prefix}reminders"  # where CELERY_TASK_ROUTES sends them
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "croportal.settings")
    sys.path.insert(0, str(REPO))

    import django

    django.setup()

    from django.conf import settings
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from reminders import services, tasks
    from reminders.models import Deadline, Reminder
    from staffing.models import User
    from tests.reminders.bulk import INSERT_DEADLINES

    say(f"database {BENCH_DB} on {connection.settings_dict['HOST']}:"
        f"{connection.settings_dict['PORT']}; PostgreSQL "
        f"{connection.cursor().connection.server_version}")
    timed("migrate", call_command, "migrate", verbosity=0)

    owner = User.objects.create_user(username="bench_owner", password=None)
    now = timezone.now()
    with connection.cursor() as cursor:
        rows = {"key": "bench", "now": now, "ct": ContentType.objects.get_for_model(User).pk,
                "owner": owner.pk, "due": DUE, "total": TOTAL}
        _, insert_s = timed(f"insert {TOTAL:,} deadlines ({DUE:,} due)", cursor.execute,
                            INSERT_DEADLINES, rows)
        timed("vacuum analyze", cursor.execute, "VACUUM ANALYZE reminders_deadline")
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('reminders_deadline')),"
                       " pg_size_pretty(pg_relation_size('deadline_sweep'))")
        table_size, index_size = cursor.fetchone()
    say(f"table with indexes {table_size}; partial index deadline_sweep {index_size}")

    with transaction.atomic():
        plan = services.due_deadlines(now=now).explain(analyze=True, buffers=True)
        transaction.set_rollback(True)
    say("\nEXPLAIN (ANALYZE, BUFFERS) of the claim's select (one batch of "
        f"{settings.REMINDER_SWEEP_BATCH}):\n{plan}\n")

    profiler = cProfile.Profile() if options.profile else None
    claimed: list[int] = []
    batches: list[float] = []
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    while True:
        batch_started = time.perf_counter()
        ids = services.reminders_claim(now=now)
        batches.append(time.perf_counter() - batch_started)
        if not ids:
            break
        claimed.extend(ids)
    if profiler:
        profiler.disable()
    claim_s = time.perf_counter() - started
    assert len(claimed) == DUE == Reminder.objects.count(), (len(claimed), DUE)
    assert not Deadline.objects.filter(state="open", next_reminder_at__lte=now).exists()
    say(f"claims: {len(claimed):,} reminders in {len(batches) - 1} batches of "
        f"{settings.REMINDER_SWEEP_BATCH} (+1 empty) in {claim_s:.2f} s = "
        f"{len(claimed) / claim_s:,.0f} rows/s; per batch: min {min(batches[:-1]) * 1000:.0f} "
        f"ms, max {max(batches[:-1]) * 1000:.0f} ms; the final empty select "
        f"{batches[-1] * 1000:.1f} ms")
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
        say(out.getvalue())

    if settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        import redis

        client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
        try:
            _, publish_s = timed(f"publish {len(claimed):,} deliveries to Redis (queue {queue})",
                                 tasks.dispatch, claimed)
            waiting = client.llen(queue)
            say(f"publish: {len(claimed) / publish_s:,.0f} messages/s; {waiting:,} waiting in "
                "the queue")
            assert waiting == len(claimed), waiting
        finally:
            keys = list(client.scan_iter(match=f"*{queue}*"))
            if keys:
                client.delete(*keys)
            say(f"deleted the throwaway queue's keys: {', '.join(k.decode() for k in keys)}")
    else:
        say("publish: skipped (set REDIS_URL to time it)")
    say(f"\nsummary: insert {insert_s:.1f} s; claim {DUE:,} of {TOTAL:,} in {claim_s:.2f} s "
        f"({DUE / claim_s:,.0f} rows/s)")


if __name__ == "__main__":
    main()
