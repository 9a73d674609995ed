"""The parts of `make bench` beyond single requests (issue 13.2): throughput at 20 connections
with wrk, the reminder sweep of 10,000 due among the seeded deadlines, and the growth of
others' data (a copy of the database where the rows outside the measured users' trials are
doubled). Called by pages_bench.py, which owns the server and the signed-in people."""

import re
import shutil
import subprocess
import time
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

REQUESTS_PER_SECOND = re.compile(r"Requests/sec:\s+([\d.]+)")
NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
SWEEP_DUE = 10_000


def throughput(url: str, cookie: str, *, seconds: int, connections: int) -> float:
    """Requests per second wrk sustains on one URL (2 threads); any non-2xx answer fails."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install -y wrk)")
    run = subprocess.run(  # noqa: S603
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s",  # noqa: S607
         "-H", f"Cookie: {cookie}", url], capture_output=True, text=True, check=True)
    bad = NON_2XX.search(run.stdout)
    if bad:
        raise RuntimeError(f"{url}: {bad.group(1)} answers were not 2xx\n{run.stdout}")
    found = REQUESTS_PER_SECOND.search(run.stdout)
    if not found:
        raise RuntimeError(f"wrk said nothing about {url}:\n{run.stdout}{run.stderr}")
    return float(found.group(1))


def sweep_among_seeded() -> dict:
    """10,000 of the seeded open deadlines made due now, then the sweep's claims timed until
    none is left (one Reminder written per recipient), all rolled back afterwards."""
    from django.db import transaction
    from django.utils import timezone

    from reminders.models import Deadline
    from reminders.services import reminders_claim

    now = timezone.now()
    with transaction.atomic():
        total = Deadline.objects.count()
        already = Deadline.objects.filter(state="open", next_reminder_at__lte=now).count()
        chosen = list(Deadline.objects.filter(state="open", next_reminder_at__gt=now)
                      .order_by("id").values_list("id", flat=True)[:SWEEP_DUE])
        Deadline.objects.filter(pk__in=chosen).update(
            next_reminder_at=now - timedelta(minutes=1), remind_at=now - timedelta(minutes=1))
        started, claimed, batches = time.perf_counter(), 0, 0
        while ids := reminders_claim(now=now):
            claimed, batches = claimed + len(ids), batches + 1
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return {"deadlines": total, "due": already + len(chosen), "claimed": claimed,
            "batches": batches, "seconds": seconds}


def database_url(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _connect(url: str):
    import psycopg2

    connection = psycopg2.connect(url)
    connection.autocommit = True
    return connection


def _one(cursor, sql: str, params=None):
    cursor.execute(sql, params)
    return cursor.fetchall()


def copy_with_others_doubled(url: str, *, keep_trials: list[int]) -> tuple[str, dict]:
    """A copy of the database (CREATE DATABASE ... TEMPLATE) where every deadline and adverse
    event outside `keep_trials` is written once more: the measured users' scopes stay as they
    are, the rows they cannot see double. Returns the copy's URL and the row counts."""
    source = urlsplit(url).path.lstrip("/")
    copy = f"{source}_others_x2"
    admin = _connect(database_url(url, "postgres"))
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{source}"')
    admin.close()
    target = database_url(url, copy)
    db = _connect(target)
    with db.cursor() as cursor:
        for table, tweak in (("reminders_deadline", {"key": "key || '+'"}),
                             ("safety_adverseevent", {})):
            _duplicate(cursor, table, tweak, keep_trials)
        cursor.execute("VACUUM ANALYZE")
        counts = {table: _one(cursor, f"SELECT count(*) FROM {table}")[0][0]  # noqa: S608
                  for table in ("reminders_deadline", "safety_adverseevent")}
    db.close()
    return target, counts


def _duplicate(cursor, table: str, tweak: dict[str, str], keep_trials: list[int]) -> None:
    columns = [row[0] for row in _one(
        cursor, "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
        "AND column_name <> 'id' AND is_generated = 'NEVER' ORDER BY ordinal_position",
        [table])]
    chosen = ", ".join(tweak.get(column, column) for column in columns)
    cursor.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {chosen} FROM {table} "  # noqa: S608
        "WHERE trial_id IS NOT NULL AND NOT (trial_id = ANY(%s))", [keep_trials])


def drop(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    admin = _connect(database_url(url, "postgres"))
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()
