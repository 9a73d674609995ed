"""A trial's safety settings at every door: an IND number added later makes the FDA rules
apply to its open cases, a new safety time zone moves the due dates, and the DIBD opens the
DSUR deadlines (DOMAIN A1, A2, A3)."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from reminders.models import Deadline
from safety.dsur import anniversary, dsur_cycles
from safety.models import ReportingObligation
from safety.services import adverse_event_review
from safety.services.trial_settings import dsur_deadlines_sync
from tests.admin_forms import admin_form_data
from tests.conftest import PASSWORD, api_as
from tests.factories import AdverseEventFactory, SiteFactory, SubjectFactory
from trials.models import Trial
from trials.services import trial_update


@pytest.fixture
def susar(trial, monitor):
    """A serious case of the trial, reviewed as unexpected and related: a SUSAR, but the trial
    has no IND or EU CT number yet, so it owes nothing."""
    subject = SubjectFactory(site=SiteFactory(trial=trial), enrolled=True)
    event = AdverseEventFactory(subject=subject)
    adverse_event_review(event=event, by=monitor, password=PASSWORD,
                         sponsor_causality="related", expectedness="unexpected")
    assert not ReportingObligation.objects.filter(adverse_event=event).exists()
    return event


def rules(event) -> set[tuple[str, str]]:
    return set(ReportingObligation.objects.filter(adverse_event=event, status="open")
               .values_list("rule", "recipient"))


def test_an_ind_number_added_by_the_service_brings_the_fda_rules(trial, crm, susar):
    trial_update(trial=trial, by=crm, reason="IND granted", ind_number="123456")
    assert rules(susar) == {("FDA_IND_15_DAY", "FDA"), ("FDA_IND_15_DAY", "INVESTIGATORS")}
    trial_update(trial=Trial.objects.get(pk=trial.pk), by=crm, reason="Withdrawn",
                 ind_number="")
    assert rules(susar) == set()
    cancelled = ReportingObligation.objects.filter(adverse_event=susar, status="cancelled")
    assert cancelled.count() == 2
    assert all("no longer under FDA IND" in o.cancelled_reason for o in cancelled)


def test_an_eu_number_added_through_the_api_brings_the_eu_rule(trial, crm, susar):
    response = api_as(crm).patch(f"/api/v1/trials/{trial.pk}/", {
        "eu_ct_number": "2026-500123-12-00", "change_reason": "CTA approved"}, format="json")
    assert response.status_code == 200, response.json()
    assert rules(susar) == {("EU_CTR_15_DAY", "EU_EUDRAVIGILANCE")}


def test_an_ind_number_added_in_the_admin_brings_the_fda_rules(trial, admin, client, susar):
    client.force_login(admin)
    url = reverse("admin:trials_trial_change", args=[trial.pk])
    client.post(url, admin_form_data(client, url, ind_number="654321",
                                     change_reason="IND granted"))
    assert ("FDA_IND_15_DAY", "FDA") in rules(susar)


def test_a_new_safety_time_zone_moves_the_due_dates(trial, crm, susar):
    trial_update(trial=trial, by=crm, reason="IND", ind_number="123456")
    fda = ReportingObligation.objects.get(adverse_event=susar, recipient="FDA")
    # Day 0 is the date of the clock start where the trial keeps its safety clock.
    far_east, far_west = "Pacific/Kiritimati", "Pacific/Pago_Pago"  # UTC+14, UTC-11
    trial_update(trial=Trial.objects.get(pk=trial.pk), by=crm, reason="Zone",
                 safety_timezone=far_east)
    east = ReportingObligation.objects.get(pk=fda.pk).due_on
    trial_update(trial=Trial.objects.get(pk=trial.pk), by=crm, reason="Zone",
                 safety_timezone=far_west)
    west = ReportingObligation.objects.get(pk=fda.pk).due_on
    assert east - west == timedelta(days=1)
    deadline = Deadline.objects.get(kind="reporting_obligation", object_id=fda.pk)
    assert deadline.due_at.astimezone(timezone.get_current_timezone()).date() >= west


def test_the_dsur_calendar():
    assert anniversary(date(2024, 2, 29), 2025) == date(2025, 2, 28)
    assert dsur_cycles(dibd=date(2020, 3, 15), tracked_from=date(2026, 1, 10),
                       today=date(2026, 1, 12)) == []  # 61 days before the lock: not yet
    cycles = dsur_cycles(dibd=date(2020, 3, 15), tracked_from=date(2026, 1, 10),
                         today=date(2026, 1, 13))
    assert cycles == [(date(2026, 3, 14), date(2026, 5, 13))]  # 60 days before: it opens
    later = dsur_cycles(dibd=date(2020, 3, 15), tracked_from=date(2026, 1, 10),
                        today=date(2027, 1, 20))
    assert later[-1] == (date(2027, 3, 14), date(2027, 5, 13))
    assert dsur_cycles(dibd=date(2020, 9, 1), tracked_from=date(2026, 1, 10),
                       today=date(2026, 1, 10)) == []  # next lock point 2026-08-31: not yet


def test_a_dibd_opens_the_dsur_deadline_of_the_monitor_and_done_stays_done(trial, crm, monitor):
    soon = timezone.localdate() + timedelta(days=30)
    dibd = anniversary(soon, soon.year - 3) + timedelta(days=1)
    trial_update(trial=trial, by=crm, reason="DIBD known", dibd=dibd)
    [deadline] = Deadline.objects.filter(kind="dsur", object_id=trial.pk)
    assert (deadline.owner, deadline.escalation_user, deadline.state) == (monitor, crm, "open")
    assert "data lock point" in deadline.title
    response = api_as(monitor).post(f"/api/v1/deadlines/{deadline.pk}/done/")
    assert response.status_code == 200
    dsur_deadlines_sync(trial=Trial.objects.get(pk=trial.pk))
    assert Deadline.objects.get(pk=deadline.pk).state == "done"  # not reopened by the task
    trial_update(trial=Trial.objects.get(pk=trial.pk), by=crm, reason="No DIBD", dibd=None)
    assert Deadline.objects.get(pk=deadline.pk).state == "done"
