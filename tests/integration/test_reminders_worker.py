"""The reminders engine under a real Celery worker (prefork, Redis broker), a real SMTP server
(aiosmtpd) and PostgreSQL: overlapping sweeps, a worker crash in mid-delivery, an SMTP outage,
a Redis outage. Each guarantee of DESIGN §5 is checked where it matters, end to end:

* two sweeps at once send each reminder once (and, without the worker, two threads claiming at
  once never claim a deadline twice);
* a delivery redelivered after its worker died (late ack) or published twice sends once;
* a delivery that keeps failing backs off, is marked failed and does not hold the others up;
* with Redis down the web keeps working, and what fell due meanwhile goes out once it is back.
"""

import asyncio
import contextlib
import email
import email.policy
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client
from django.utils import timezone

from reminders import services
from reminders.models import Deadline, Notification, Reminder
from reminders.policies import Kind
from staffing.models import Role
from staffing.services import assignment_start
from tests.conftest import make_user, need_service
from tests.integration import test_celery_worker as plain_worker
from tests.integration.queues import new_prefix, private_queue_for, worker_queue_args
from tests.integration.test_celery_worker import _forget_queue, stop, worker_database_env

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

# The fixtures of the plain worker test: a committed world (transactional_db) and the Redis.
committed_world = plain_worker.committed_world
broker_url = plain_worker.broker_url

REPO = Path(settings.BASE_DIR)
POLL_EVERY = 0.1
SWEEP = "reminders.tasks.reminders_sweep"
DELIVER = "reminders.tasks.reminder_deliver"
STAMP = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}):", re.MULTILINE)


# ------------------------------------------------------------------------------------ helpers

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    """An aiosmtpd handler keeping the messages it accepted (250). With `stall_first`, the
    first DATA waits until `release` is set: `stalled` tells the test it is in there."""

    def __init__(self, *, stall_first: bool = False, stalled_reply: str = "250 OK") -> None:
        self.accepted: list[tuple[tuple[str, ...], str]] = []  # (recipients, subject)
        self.stall_first = stall_first
        self.stalled_reply = stalled_reply
        self.stalled = threading.Event()
        self.release = threading.Event()
        self.refuse: set[str] = set()  # recipients answered "451 try again later" for now

    async def handle_DATA(self, server, session, envelope):
        if self.refuse & set(envelope.rcpt_tos):
            return "451 4.3.0 Mailbox busy, try again later"
        if self.stall_first and not self.stalled.is_set():
            self.stalled.set()
            while not self.release.is_set():  # keep the event loop free for other sessions
                await asyncio.sleep(0.05)
            if not self.stalled_reply.startswith("250"):
                return self.stalled_reply
        message = email.message_from_bytes(envelope.original_content or envelope.content,
                                           policy=email.policy.default)
        self.accepted.append((tuple(envelope.rcpt_tos), str(message["subject"])))
        return "250 OK"

    def to(self, address: str) -> list[str]:
        return [subject for rcpts, subject in self.accepted if address in rcpts]


class SmtpServer:
    def __init__(self, mailbox: Mailbox) -> None:
        from aiosmtpd.controller import Controller

        self.port = free_port()
        self.controller = Controller(mailbox, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


class Worker:
    """A `celery worker` subprocess on its own queues (CELERY_QUEUE_PREFIX: the sweep's
    deliveries are routed there too) against the test database; its log goes to a file."""

    def __init__(self, tmp_path: Path, *, broker: str, concurrency: int = 2,
                 env: dict | None = None, args: tuple[str, ...] = (), label: str = "worker"):
        self.queue = new_prefix("reminders")  # the prefix of its private queues
        self.broker = broker
        self.log = tmp_path / f"{label}.log"
        self.env = {
            **os.environ,
            **worker_database_env(),
            "REDIS_URL": broker,
            "DJANGO_SETTINGS_MODULE": "croportal.settings",
            "CELERY_QUEUE_PREFIX": self.queue,
            "EMAIL_URL": "consolemail://",
            **(env or {}),
        }
        self.argv = [
            sys.executable, "-m", "celery", "-A", "croportal", "worker", "-l", "info",
            "-c", str(concurrency), "-P", "prefork", "--without-gossip", "--without-mingle",
            "--without-heartbeat", *worker_queue_args(self.queue), *args,
        ]
        self.process: subprocess.Popen | None = None

    def __enter__(self):
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                self.argv, cwd=REPO, env=self.env, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
            )
        return self

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            stop(self.process)
        # A private Redis may be gone by now: nothing to clean there, then.
        with contextlib.suppress(Exception):
            _forget_queue(self.broker, self.queue)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def until(self, condition, *, timeout: float, what: str) -> None:
        """Poll `condition` (the database, the mailbox, the log); fail early if we died."""
        limit = time.monotonic() + timeout
        while not condition():
            if self.process.poll() is not None:
                pytest.fail(f"the worker exited with {self.process.returncode} waiting for "
                            f"{what}:\n{self.text()}")
            if time.monotonic() > limit:
                pytest.fail(f"no {what} after {timeout:.0f} s; worker log:\n{self.text()}")
            time.sleep(POLL_EVERY)

    def ready(self) -> None:
        self.until(lambda: " ready." in self.text(), timeout=30, what="worker start")

    def send(self, task: str, *args) -> None:
        from croportal.celery import app

        # Always through the broker, to the private queue the task is routed to.
        app.send_task(task, args=args, queue=private_queue_for(task, self.queue))


def quiet_world_deadlines() -> None:
    """The world's own due deadlines (its serious cases' medical reviews, overdue since June)
    would be claimed and mailed too: these tests count only the deadlines they make."""
    Deadline.objects.update(remind_at=None, escalate_at=None, next_reminder_at=None)


def due_task(w, owner, index: int, *, prefix: str, due_at: datetime | None = None) -> Deadline:
    now = timezone.now()
    return services.deadline_upsert(
        kind=Kind.TASK, subject=w.trial_a, owner=owner, trial=w.trial_a,
        due_at=due_at or now - timedelta(hours=1), title=f"{prefix} {index}",
        key=f"{prefix}-{index}", url=f"/trials/{w.trial_a.pk}/",
    )


def owners(w, prefix: str, count: int, *, with_email: bool = True) -> list:
    """People on trial A (reminders only reach those who work on the deadline's trial)."""
    people = [
        make_user(f"{prefix}_{i}", w.cro,
                  email=f"{prefix}.{i}@example.org" if with_email else "")
        for i in range(count)
    ]
    for person in people:
        assignment_start(user=person, trial=w.trial_a, role=Role.MEDICAL_MONITOR, by=w.admin,
                         start_date=timezone.localdate() - timedelta(days=1))
    return people


def stamps(log: str, marker: str) -> list[datetime]:
    """Times of the log lines containing `marker` (Celery's `[YYYY-mm-dd HH:MM:SS,mmm: ...`)."""
    found = []
    for line in log.splitlines():
        if marker in line and (match := STAMP.match(line)):
            found.append(datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f"))
    return found


def sweep_results(log: str) -> list[int]:
    return [int(n) for n in re.findall(
        r"Task reminders\.tasks\.reminders_sweep\[[^\]]+\] succeeded in [\d.e-]+s: (\d+)", log)]


# ------------------------------------------------------------------- 1. overlapping sweeps

def test_two_overlapping_sweeps_send_each_reminder_once(committed_world, broker_url, tmp_path):
    w = committed_world
    people = owners(w, "race", 60)
    deadlines = [due_task(w, person, i, prefix="Race") for i, person in enumerate(people)]
    mailbox = Mailbox()
    with SmtpServer(mailbox) as smtp, Worker(
        tmp_path, broker=broker_url, concurrency=2,
        # Small batches: each sweep loops, so the two interleave their claims.
        env={"EMAIL_URL": smtp.url, "REMINDER_SWEEP_BATCH": "7"},
    ) as worker:
        worker.ready()
        worker.send(SWEEP)
        worker.send(SWEEP)
        ids = [d.pk for d in deadlines]
        worker.until(
            lambda: Reminder.objects.filter(deadline_id__in=ids, state="sent").count() == 60
            and len(mailbox.accepted) >= 60,
            timeout=45, what="60 reminders sent")
        worker.until(lambda: len(sweep_results(worker.text())) == 2, timeout=15,
                     what="both sweeps finished")
        time.sleep(1.5)  # a duplicate would arrive now
        log = worker.text()

    assert sum(sweep_results(log)) == Reminder.objects.count(), log  # each claim counted once
    for deadline, person in zip(deadlines, people, strict=True):
        assert Reminder.objects.filter(deadline=deadline).count() == 1
        assert Notification.objects.filter(deadline=deadline, user=person).count() == 1
        assert len(mailbox.to(person.email)) == 1, mailbox.to(person.email)
    assert len(mailbox.accepted) == 60
    assert Counter(r for rcpts, _ in mailbox.accepted for r in rcpts) == Counter(
        p.email for p in people)
    assert not Reminder.objects.exclude(state="sent").filter(deadline__in=deadlines).exists()


def test_two_concurrent_claimers_never_claim_a_deadline_twice(committed_world):
    w = committed_world
    quiet_world_deadlines()
    owner = make_user("claim_owner", w.cro)
    for i in range(300):
        due_task(w, owner, i, prefix="Claim")
    barrier = threading.Barrier(2)
    claimed: list[list[int]] = [[], []]
    errors: list[BaseException] = []

    def claimer(slot: int) -> None:
        try:
            barrier.wait(timeout=10)
            while batch := services.reminders_claim(batch=20):
                claimed[slot].extend(batch)
        except BaseException as error:  # surfaced in the test thread below
            errors.append(error)
        finally:
            connections.close_all()  # this thread's own connection

    threads = [threading.Thread(target=claimer, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    both = claimed[0] + claimed[1]
    assert len(both) == len(set(both)) == 300
    assert set(both) == set(Reminder.objects.values_list("pk", flat=True))
    per_stage = Counter(Reminder.objects.values_list("deadline_id", "stage"))
    assert len(per_stage) == 300
    assert set(per_stage.values()) == {1}
    assert services.reminders_claim() == []  # nothing left due
    # They really ran side by side, each claiming a share.
    assert claimed[0]
    assert claimed[1]


# ------------------------------------------------------------- 2. redelivery does not repeat

def test_a_delivery_redelivered_after_a_worker_crash_mails_once(committed_world, broker_url,
                                                                 tmp_path):
    w = committed_world
    [person] = owners(w, "crash", 1)
    deadline = due_task(w, person, 0, prefix="Crash")
    services.reminders_claim()
    reminder = Reminder.objects.get(deadline=deadline)
    # The first SMTP session hangs in DATA and, once released, refuses: never accepted.
    mailbox = Mailbox(stall_first=True, stalled_reply="451 4.3.0 Stalled on purpose")
    with SmtpServer(mailbox) as smtp, Worker(
        tmp_path, broker=broker_url, concurrency=1, env={"EMAIL_URL": smtp.url},
    ) as worker:
        worker.ready()
        worker.send(DELIVER, reminder.pk)
        worker.until(mailbox.stalled.is_set, timeout=30, what="the delivery reaching SMTP")
        # The pool child is inside the delivery (row locked, notification committed): kill it.
        children = subprocess.run(["pgrep", "-P", str(worker.process.pid)],
                                  capture_output=True, text=True).stdout.split()
        assert len(children) == 1, children
        os.kill(int(children[0]), signal.SIGKILL)
        worker.until(lambda: "WorkerLostError" in worker.text()
                     or "exited prematurely" in worker.text(),
                     timeout=15, what="the worker noticing its child's death")
        mailbox.release.set()
        worker.until(lambda: Reminder.objects.get(pk=reminder.pk).state == "sent",
                     timeout=30, what="the redelivered message sending the reminder")
        time.sleep(1.0)
        log = worker.text()

    reminder.refresh_from_db()
    assert reminder.attempts == 2, log  # the killed attempt and the redelivered one
    assert reminder.emailed_at is not None
    assert Notification.objects.filter(reminder=reminder).count() == 1
    assert Notification.objects.filter(deadline=deadline).count() == 1
    assert len(mailbox.to(person.email)) == 1, mailbox.accepted
    assert len(mailbox.accepted) == 1


def test_the_same_delivery_published_twice_mails_once(committed_world, broker_url, tmp_path):
    w = committed_world
    [person] = owners(w, "twice", 1)
    deadline = due_task(w, person, 0, prefix="Twice")
    services.reminders_claim()
    reminder = Reminder.objects.get(deadline=deadline)
    # The first copy holds the reminder's row lock while its e-mail hangs; the second copy,
    # in the other pool process, waits on that lock and then finds the reminder sent.
    mailbox = Mailbox(stall_first=True)
    with SmtpServer(mailbox) as smtp, Worker(
        tmp_path, broker=broker_url, concurrency=2, env={"EMAIL_URL": smtp.url},
    ) as worker:
        worker.ready()
        worker.send(DELIVER, reminder.pk)
        worker.send(DELIVER, reminder.pk)
        worker.until(mailbox.stalled.is_set, timeout=30, what="the first copy reaching SMTP")
        worker.until(lambda: worker.text().count("reminders.tasks.reminder_deliver[") >= 2,
                     timeout=15, what="the second copy starting")
        time.sleep(1.0)  # the second copy is now waiting on the row lock
        mailbox.release.set()
        worker.until(lambda: len(re.findall(r"reminder_deliver\[[^\]]+\] succeeded",
                                            worker.text())) == 2,
                     timeout=30, what="both copies finishing")
        log = worker.text()

    results = re.findall(r"reminder_deliver\[[^\]]+\] succeeded in ([\d.e-]+)s: '(\w+)'", log)
    assert [state for _, state in results] == ["sent", "sent"], log  # the 2nd found it sent
    # Both copies ran at once: the second was held on the row lock until the first had mailed.
    assert min(float(seconds) for seconds, _ in results) >= 0.8, log
    reminder.refresh_from_db()
    assert reminder.state == "sent"
    assert reminder.attempts in (1, 2)  # 2 if the second copy got the lock between the steps
    assert Notification.objects.filter(reminder=reminder).count() == 1
    assert len(mailbox.accepted) == 1
    assert len(mailbox.to(person.email)) == 1


# --------------------------------------------------------------- 3. failing delivery, backoff

def test_a_failing_delivery_backs_off_then_fails_without_holding_up_others(
        committed_world, broker_url, tmp_path):
    w = committed_world
    mailed = owners(w, "smtpdown", 2)
    in_app = owners(w, "inapp", 20, with_email=False)
    failing = [due_task(w, p, i, prefix="Failing") for i, p in enumerate(mailed)]
    fine = [due_task(w, p, i, prefix="InApp") for i, p in enumerate(in_app)]
    closed_port = free_port()  # nothing listens there: connection refused
    with Worker(tmp_path, broker=broker_url, concurrency=1, env={
        "EMAIL_URL": f"smtp://127.0.0.1:{closed_port}",
        "REMINDER_MAX_ATTEMPTS": "3",
        "REMINDER_RETRY_BACKOFF_SECONDS": "1",
    }) as worker:
        worker.ready()
        swept_at = timezone.now()
        worker.send(SWEEP)
        worker.until(
            lambda: Reminder.objects.filter(deadline__in=fine, state="sent").count() == 20,
            timeout=20, what="the in-app reminders")
        in_app_done = timezone.now()
        # The others were not held up: all went while the failing ones still waited to retry.
        assert Reminder.objects.filter(deadline__in=failing, state="pending").count() == 2
        worker.until(
            lambda: Reminder.objects.filter(deadline__in=failing, state="failed").count() == 2,
            timeout=30, what="the failing reminders marked failed")
        log = worker.text()

    assert (in_app_done - swept_at).total_seconds() < 15
    for deadline in failing:
        reminder = Reminder.objects.get(deadline=deadline)
        assert reminder.state == "failed"
        assert reminder.attempts == 3
        assert "attempt 3" in reminder.last_error
        assert "refused" in reminder.last_error.lower(), reminder.last_error
        assert "ConnectionRefusedError" in reminder.last_error
        deadline.refresh_from_db()
        assert deadline.delivery_failed_at is not None
        # Its schedule moved on at the claim: the next reminder is tomorrow's, not stuck.
        assert deadline.next_reminder_at is not None
        assert deadline.next_reminder_at > reminder.scheduled_for + timedelta(hours=12)
        assert Notification.objects.filter(reminder=reminder).count() == 1  # the bell rang
        # Backoff of 1 s x 2^n: the second retry waits about twice as long as the first.
        times = stamps(log, f"reminder {reminder.pk} delivery failed")
        times += stamps(log, f"reminder {reminder.pk} failed for good")
        assert len(times) == 3, log
        first_gap = (times[1] - times[0]).total_seconds()
        second_gap = (times[2] - times[1]).total_seconds()
        assert first_gap >= 0.9, (first_gap, second_gap)
        assert second_gap >= 1.9, (first_gap, second_gap)
        assert second_gap > first_gap
    finished = Reminder.objects.filter(deadline__in=fine).values_list("finished_at", flat=True)
    first_failure = min(Reminder.objects.filter(deadline__in=failing)
                        .values_list("finished_at", flat=True))
    assert max(finished) < first_failure
    for deadline, person in zip(fine, in_app, strict=True):
        assert Notification.objects.filter(deadline=deadline, user=person).count() == 1


# ------------------------------------------------------------------------ 4. Redis outage

class PrivateRedis:
    def __init__(self, tmp_path: Path) -> None:
        self.port = free_port()
        self.dir = tmp_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redis

        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--dir", str(self.dir)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        limit = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping()
                return
            except redis.RedisError:
                if time.monotonic() > limit:
                    raise
                time.sleep(0.05)

    def shutdown(self) -> None:
        if self.process is not None and self.process.poll() is None:
            subprocess.run(["redis-cli", "-p", str(self.port), "shutdown", "nosave"],
                           capture_output=True, timeout=10)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def test_reminders_due_while_redis_is_down_go_out_once_it_is_back(committed_world, tmp_path):
    need_service(bool(shutil.which("redis-server") and shutil.which("redis-cli")),
                 "needs the redis-server and redis-cli binaries")
    w = committed_world
    quiet_world_deadlines()
    w.crm.email = "crm.outage@example.org"
    w.crm.save(update_fields=["email"])
    w.cra.email = "held.outage@example.org"
    w.cra.save(update_fields=["email"])
    before = due_task(w, w.crm, 0, prefix="Before outage")
    # This one's e-mail is refused for now: its retry waits (unacknowledged, in the worker)
    # through the outage, and Redis comes back empty, so that message is gone for good.
    held = due_task(w, w.cra, 0, prefix="Held over the outage")
    redis_server = PrivateRedis(tmp_path)
    redis_server.start()
    mailbox = Mailbox()
    mailbox.refuse.add(w.cra.email)
    try:
        with SmtpServer(mailbox) as smtp, Worker(
            tmp_path, broker=redis_server.url, concurrency=2,
            args=("-B", "-s", str(tmp_path / "beat-schedule"),
                  "--scheduler", "celery.beat:PersistentScheduler"),
            env={"EMAIL_URL": smtp.url, "REMINDER_SWEEP_SECONDS": "2",
                 "REMINDER_RETRY_BACKOFF_SECONDS": "30",
                 "REMINDER_REDISPATCH_AFTER_SECONDS": "6"},
        ) as worker:
            worker.ready()
            worker.until(lambda: len(mailbox.to(w.crm.email)) == 1
                         and Reminder.objects.filter(deadline=held).exclude(last_error="")
                         .exists(),
                         timeout=20, what="the first sweep's deliveries")

            redis_server.shutdown()
            down_at = time.monotonic()
            # The web does not need the broker: pages answer, deadlines are set.
            client = Client()
            client.force_login(w.crm)
            assert client.get("/").status_code == 200
            assert client.get("/healthz/").status_code == 200
            due_local = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
            response = client.post("/deadlines/new/", {
                "kind": Kind.TASK, "title": "Set while Redis is down", "trial": w.trial_a.pk,
                "owner": "", "due": due_local})
            assert response.status_code == 302, response.content.decode()[:2000]
            during = Deadline.objects.get(title="Set while Redis is down")
            also = due_task(w, w.crm, 0, prefix="Upserted while down")
            mailbox.refuse.clear()  # the held one's mail would go through now
            time.sleep(max(0.0, 5 - (time.monotonic() - down_at)))
            assert not Notification.objects.filter(deadline__in=[during, also]).exists()
            assert Reminder.objects.get(deadline=held).state == "pending"

            redis_server.start()  # same port, empty: no queues, no bindings, no messages
            back_at = time.monotonic()
            worker.until(
                lambda: Notification.objects.filter(deadline__in=[during, also]).count() == 2
                and len(mailbox.to(w.crm.email)) == 3
                and Reminder.objects.get(deadline=held).state == "sent",
                timeout=60, what="the reminders due during the outage")
            caught_up = time.monotonic() - back_at
            time.sleep(4)  # two more sweeps: nothing is sent twice
            log = worker.text()
    finally:
        redis_server.shutdown()

    for deadline, person in ((before, w.crm), (during, w.crm), (also, w.crm), (held, w.cra)):
        assert Reminder.objects.filter(deadline=deadline, recipient=person).count() == 1
        assert Notification.objects.filter(deadline=deadline, user=person).count() == 1
        titled = [s for s in mailbox.to(person.email) if deadline.title in s]
        assert len(titled) == 1, (deadline.title, mailbox.accepted)
    assert len(mailbox.to(w.cra.email)) == 1
    # The worker lost the broker while holding an unacknowledged message, and lived on.
    assert "Connection to broker lost" in log, log
    assert "Restoring" in log, log
    assert "Unrecoverable error" not in log, log
    print(f"reminders caught up {caught_up:.1f} s after Redis came back")
