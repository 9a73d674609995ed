"""Pages and API lists at a CRO's scale: p50/p95 server time and query count of each, beside a
trivial authenticated call (`/api/v1/me/`) requested after each of their requests, served by
gunicorn on the database that `seed_demo --scale cro` filled. Writes a markdown report under bench/.

    DATABASE_URL=postgres://croportal_app@127.0.0.1:5432/croportal_cro \\
    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/pages_bench.py [--requests 30]
"""

import argparse
import os
import re
import secrets
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"
TIMING = re.compile(r"app;dur=([\d.]+), db;dur=(\d+)")


def server_env() -> dict[str, str]:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="bench.settings", DEBUG="false",
               SECURE_SSL_REDIRECT="false", ALLOWED_HOSTS="127.0.0.1",
               SECRET_KEY=os.environ.get("SECRET_KEY") or secrets.token_urlsafe(40),
               PYTHONPATH=str(ROOT))
    if "DATABASE_URL" not in env:
        sys.exit("DATABASE_URL names the database seed_demo --scale cro filled.")
    return env


def start_server(env: dict[str, str], workers: int) -> subprocess.Popen:
    python = sys.executable
    subprocess.run([python, "manage.py", "collectstatic", "--noinput", "-v0"],  # noqa: S603
                   cwd=ROOT, env=env,
                   check=True)
    server = subprocess.Popen(  # noqa: S603
        [python, "-m", "gunicorn", "croportal.wsgi", "-b", f"127.0.0.1:{PORT}", "-w",
         str(workers), "--access-logfile", "/dev/null", "--log-level", "warning"],
        cwd=ROOT, env=env)
    for _ in range(100):
        try:
            requests.get(f"{BASE}/healthz/", timeout=10)
            return server
        except requests.RequestException:
            time.sleep(0.2)
    server.kill()
    sys.exit("gunicorn did not start")


class Person:
    """A demo user signed in through the login page (cookies sent by hand: the production
    settings mark them Secure, and the bench speaks plain HTTP to 127.0.0.1)."""

    def __init__(self, username: str) -> None:
        self.username = username
        http = requests.Session()
        page = http.get(f"{BASE}/accounts/login/", timeout=30)
        csrf = page.cookies["csrftoken"]
        answer = http.post(f"{BASE}/accounts/login/", allow_redirects=False, timeout=30,
                           data={"username": username, "password": f"demo-{username}-portal",
                                 "csrfmiddlewaretoken": csrf},
                           headers={"Cookie": f"csrftoken={csrf}", "Referer": page.url})
        session = answer.cookies.get("sessionid")
        if answer.status_code != 302 or not session:
            sys.exit(f"{username} could not sign in ({answer.status_code})")
        self.cookie = f"sessionid={session}; csrftoken={csrf}"
        self.http = requests.Session()

    def get(self, path: str) -> tuple[float, int, int]:
        answer = self.http.get(f"{BASE}{path}", headers={"Cookie": self.cookie},
                               allow_redirects=False, timeout=120)
        found = TIMING.search(answer.headers.get("Server-Timing", ""))
        if answer.status_code != 200 or not found:
            raise RuntimeError(f"{self.username} {path}: {answer.status_code}")
        return float(found.group(1)), int(found.group(2)), len(answer.content)


def seed_if_empty(env: dict[str, str]) -> None:
    """A database without the CRO's data gets it first (migrate, seed_demo --scale cro)."""
    import django

    django.setup()
    from django.db import DatabaseError

    from staffing.models import Organisation

    try:
        seeded = Organisation.objects.filter(name="Meridian Clinical Research").exists()
    except DatabaseError:  # not migrated yet
        seeded = False
    if not seeded:
        for command in (["migrate", "--noinput", "-v0"], ["seed_demo", "--scale", "cro"]):
            subprocess.run([sys.executable, "manage.py", *command],  # noqa: S603
                           cwd=ROOT, env=env, check=True)


def targets() -> list[tuple[str, str, str]]:
    """(label, user, path) of every page and list measured; ids read from the seeded data."""
    from sites.models import Site
    from staffing.models import Assignment

    crm_trials = list(Assignment.objects.filter(user__username="crm", role="CRM")
                      .order_by("trial_id").values_list("trial_id", flat=True))
    largest, typical = crm_trials[0], crm_trials[len(crm_trials) // 2]
    cra_sites = list(Assignment.objects.filter(user__username="cra", role="CRA")
                     .order_by("site_id").values_list("site_id", flat=True))
    busy, usual = cra_sites[0], cra_sites[-1]
    assert Site.objects.filter(pk=busy).exists()
    pages = [
        ("home, CRM", "crm", "/"), ("home, CRA", "cra", "/"),
        ("home, medical monitor", "monitor", "/"), ("home, sponsor", "sponsor_a", "/"),
        ("home, admin", "admin", "/"),
        ("trial page, largest", "crm", f"/trials/{largest}/"),
        ("trial page, typical", "crm", f"/trials/{typical}/"),
        ("trial sites list, largest", "crm", f"/trials/{largest}/sites/"),
        ("site page, busiest (600 subjects)", "cra", f"/sites/{busy}/"),
        ("site page, typical", "cra", f"/sites/{usual}/"),
        ("site subjects list, busiest", "cra", f"/sites/{busy}/subjects/"),
        ("medical-review queue", "monitor", "/safety/queue/"),
        ("obligations list", "monitor", "/safety/obligations/"),
        ("my deadlines, CRA", "cra", "/deadlines/"),
        ("trial deadlines, largest", "crm", f"/trials/{largest}/deadlines/"),
        ("workload", "crm", "/staff/workload/"),
        ("audit trail, busy site (2,000 changes)", "crm", f"/audit/site/{busy}/"),
        ("trials list, admin", "admin", "/trials/"),
    ]
    api = [(f"API {name}, {user}", user, f"/api/v1/{name}/")
           for name in ("trials", "sites", "subjects", "adverse-events", "deadlines",
                        "reporting-obligations", "essential-documents")
           for user in ("admin", "crm")]
    return pages + api


def measure(person: Person, path: str, count: int, *, alongside: Person | None = None) -> dict:
    """p50/p95 server time, queries and size of `path`; with `alongside`, the trivial call is
    requested after each request of the page, and `trivial_p50` is its p50 over the same
    seconds (a busy or idle moment of the machine weighs on both alike)."""
    for _ in range(2):
        person.get(path)  # warm: caches, the worker's imports
    times, trivial, queries, size = [], [], set(), 0
    for _ in range(count):
        ms, n, size = person.get(path)
        times.append(ms)
        queries.add(n)
        if alongside is not None:
            trivial.append(alongside.get(TRIVIAL)[0])
    times.sort()
    measured = {"p50": statistics.median(times), "p95": times[max(0, int(0.95 * count) - 1)],
                "queries": max(queries), "kb": size / 1024}
    if trivial:
        measured["trivial_p50"] = statistics.median(trivial)
    return measured


def ratio_of(row: dict, trivial: dict) -> float:
    """A row's p50 over the trivial call's: the one measured alongside it when there is one."""
    return row["p50"] / row.get("trivial_p50", trivial["p50"])


def report(rows: list[tuple[str, dict]], trivial: dict, count: int) -> str:
    lines = [f"# Pages and lists at CRO scale — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC", "",
             f"{count} sequential requests each after two warm-ups; gunicorn, PostgreSQL; "
             "server time from the Server-Timing header (bench.timing). Trivial call "
             f"`/api/v1/me/`: p50 {trivial['p50']:.1f} ms on its own; each row's ratio is "
             "to the trivial call requested after each of its requests (the same seconds).", "",
             "| page or list | p50 ms | p95 ms | queries | x trivial (p50) | KB | budget |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for label, r in rows:
        ratio = ratio_of(r, trivial)
        ok = r["p95"] <= 150 and r["queries"] <= 15 and ratio <= 5
        lines.append(f"| {label} | {r['p50']:.1f} | {r['p95']:.1f} | {r['queries']} | "
                     f"{ratio:.1f} | {r['kb']:.0f} | {'within' if ok else '**over**'} |")
    return "\n".join(lines) + "\n"


TRIVIAL = "/api/v1/me/"
LOAD = ("/api/v1/deadlines/", "/api/v1/adverse-events/", "/api/v1/trials/", "/api/v1/sites/",
        "/api/v1/subjects/")
# Pages and lists measured again once the rows outside the demo users' trials are doubled.
OTHERS_GROW = ("home, CRM", "home, medical monitor", "home, sponsor", "medical-review queue",
               "obligations list", "my deadlines, CRA", "trial deadlines, largest",
               "API adverse-events, crm", "API deadlines, crm", "API reporting-obligations, crm")


def prepare(env: dict[str, str]) -> None:
    """Seeded, migrated to this checkout, and vacuumed (the visibility map lets counts read
    indexes only; autovacuum does the same on a live database, in its own time)."""
    seed_if_empty(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
                   cwd=ROOT, env=env, check=True)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def pages(plan: list, workers: int, count: int, env: dict[str, str], *,
          load_seconds: int = 0) -> tuple[dict, list, list]:
    """Start gunicorn, sign the people in, measure the trivial call and the plan's rows (and
    the throughput of LOAD when load_seconds), stop it."""
    from bench import scale_extras

    server = start_server(env, workers)
    try:
        people = {u: Person(u) for u in sorted({user for _, user, _ in plan} | {"crm"})}
        trivial = measure(people["crm"], TRIVIAL, count)
        rows = []
        for label, user, path in plan:
            rows.append((label, measure(people[user], path, count, alongside=people["crm"])))
            print(f"{label:<45} p50 {rows[-1][1]['p50']:8.1f} ms  q {rows[-1][1]['queries']}")
        load = [(path, scale_extras.throughput(f"{BASE}{path}", people["crm"].cookie,
                                               seconds=load_seconds, connections=20))
                for path in ("/api/v1/me/", *LOAD)] if load_seconds else []
    finally:
        server.terminate()
        server.wait(timeout=30)
    return trivial, rows, load


def demo_trials() -> list[int]:
    from staffing.models import Assignment

    return sorted(set(Assignment.objects.filter(
        user__username__in=["crm", "cra", "monitor", "sponsor_a", "sponsor_b"])
        .values_list("trial_id", flat=True)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--load-seconds", type=int, default=60,
                        help="wrk at 20 connections on each main list (0: skip)")
    parser.add_argument("--skip-others", action="store_true",
                        help="skip the copy with others' data doubled")
    args = parser.parse_args()
    env = server_env()
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    prepare(env)
    from django.db import connections

    from bench import extras_report, scale_extras

    plan = targets()
    trivial, rows, load = pages(plan, args.workers, args.requests, env,
                                load_seconds=args.load_seconds)
    out = ROOT / "bench" / f"report-pages-{datetime.now(UTC):%Y%m%d-%H%M}.md"
    text = report(rows, trivial, args.requests) + extras_report.load(load)
    out.write_text(text, encoding="utf-8")  # each section lands as soon as it is measured
    text += extras_report.sweep(scale_extras.sweep_among_seeded())
    out.write_text(text, encoding="utf-8")
    if not args.skip_others:
        keep = demo_trials()
        connections.close_all()  # a template database must have no other session
        copy, counts = scale_extras.copy_with_others_doubled(env["DATABASE_URL"],
                                                             keep_trials=keep)
        try:
            grown = [row for row in plan if row[0] in OTHERS_GROW]
            trivial_x2, rows_x2, _ = pages(grown, args.workers, args.requests,
                                           dict(env, DATABASE_URL=copy))
        finally:
            scale_extras.drop(copy)
        text += extras_report.others(rows, trivial, rows_x2, trivial_x2, counts)
    out.write_text(text, encoding="utf-8")
    print(text)
    print(f"written to {out}")


if __name__ == "__main__":
    main()
