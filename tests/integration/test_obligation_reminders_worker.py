"""A reporting obligation that falls due reaches the trial's medical monitor exactly once and
escalates to its CRM, through a real Celery worker, Redis, SMTP and PostgreSQL: the
safety-reporting reminders of the mission (DOMAIN A3, DESIGN §5)."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from reminders.models import Deadline, Notification, Reminder
from safety.models import ReportingObligation
from safety.services import adverse_event_create
from staffing.models import User
from tests.factories import ctcae_term
from tests.integration.test_reminders_worker import (
    SWEEP,
    Mailbox,
    SmtpServer,
    Worker,
    broker_url,
    committed_world,
    sweep_results,
)
from trials.models import Trial

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
__all__ = ["broker_url", "committed_world"]  # the fixtures, shared with the reminders tests


def test_an_overdue_obligation_reaches_the_monitor_once_and_escalates_to_the_crm(
        committed_world, broker_url, tmp_path):
    w = committed_world
    User.objects.filter(pk=w.monitor.pk).update(email="monitor@example.org")
    User.objects.filter(pk=w.crm.pk).update(email="crm@example.org")
    # Trial A under an IND; a case the monitor entered with the sponsor's assessment
    # (unexpected, related) as received thirty days ago: its 15-day reports are overdue.
    Trial.objects.filter(pk=w.trial_a.pk).update(ind_number="777777")
    aware = timezone.now() - timedelta(days=30)
    event = adverse_event_create(
        subject=w.subject_a1, by=w.monitor, verbatim_term="liver injury",
        term=ctcae_term("Febrile neutropenia"), onset_date=aware.date(), severity_grade=3,
        seriousness_criteria=["hospitalization"], investigator_causality="related",
        sponsor_causality="related", expectedness="unexpected", site_awareness_at=aware,
        sponsor_awareness_at=aware)
    fda = ReportingObligation.objects.get(adverse_event=event, rule="FDA_IND_15_DAY",
                                          recipient="FDA")
    deadline = Deadline.objects.get(kind="reporting_obligation", object_id=fda.pk)
    assert (deadline.owner, deadline.escalation_user) == (w.monitor, w.crm)
    mailbox = Mailbox()
    with SmtpServer(mailbox) as smtp, Worker(tmp_path, broker=broker_url,
                                             env={"EMAIL_URL": smtp.url}) as worker:
        worker.ready()
        worker.send(SWEEP)
        worker.until(lambda: Reminder.objects.filter(deadline=deadline, state="sent").count()
                     == 2, timeout=45, what="the monitor's reminder and the escalation")
        worker.send(SWEEP)  # a second sweep a moment later owes nothing more
        worker.until(lambda: len(sweep_results(worker.text())) == 2, timeout=20,
                     what="both sweeps finished")
        time.sleep(1.5)  # a duplicate would arrive now

    stages = dict(Reminder.objects.filter(deadline=deadline).values_list("recipient", "stage"))
    assert stages[w.monitor.pk] in ("new", "overdue")
    assert stages[w.crm.pk] == "escalation"
    assert Notification.objects.filter(deadline=deadline, user=w.monitor).count() == 1
    assert Notification.objects.filter(deadline=deadline, user=w.crm).count() == 1
    for person in ("monitor@example.org", "crm@example.org"):
        to_fda = [s for s in mailbox.to(person) if "report to FDA:" in s]
        assert len(to_fda) == 1, mailbox.accepted
