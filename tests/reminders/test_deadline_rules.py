"""Who may set or reassign a hand-made deadline, and whom it escalates to, is the service's."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from croportal.exceptions import ApplicationError
from reminders.models import Deadline
from reminders.services import deadline_create_manual, deadline_reassign
from tests.conftest import api_as
from tests.factories import (
    TrialFactory,
    monitor_of,
    sponsor_viewer_of,
)


@pytest.fixture
def monitor(trial):
    return monitor_of(trial)


@pytest.fixture
def outsider(db):
    """A sponsor viewer of another sponsor's trial."""
    return sponsor_viewer_of(TrialFactory())


def due():
    return timezone.now() + timedelta(days=3)


def test_a_deadline_someone_sets_for_themself_escalates_to_nobody(cra, trial):
    own = deadline_create_manual(by=cra, kind="task", trial=trial,
                                 due_at=due(), title="Chase CV")
    assert own.owner == cra
    assert own.escalation_user is None


def test_the_api_and_the_page_give_no_self_escalation_either(cra, trial, client):
    response = api_as(cra).post("/api/v1/deadlines/", {
        "kind": "task", "trial": trial.pk, "due_at": due().isoformat(),
        "title": "API task"}, format="json")
    assert response.status_code == 201, response.json()
    assert Deadline.objects.get(pk=response.json()["id"]).escalation_user is None
    client.force_login(cra)
    client.post(reverse("reminders:deadline_new"), {
        "kind": "task", "trial": trial.pk, "title": "Page task",
        "due": timezone.localtime(due()).strftime("%Y-%m-%dT%H:%M")})
    page = Deadline.objects.get(title="Page task")
    assert (page.owner, page.escalation_user) == (cra, None)


def test_escalating_to_the_owner_is_refused(crm, trial, cra):
    with pytest.raises(ApplicationError) as refused:
        deadline_create_manual(by=crm, kind="task", trial=trial, owner=cra,
                               due_at=due(), title="X", escalation_user=cra)
    assert refused.value.field == "escalation_user"
    assert not Deadline.objects.filter(title="X").exists()


def test_a_deadline_the_crm_sets_for_someone_escalates_to_the_crm(crm, trial, cra):
    theirs = deadline_create_manual(by=crm, kind="task", trial=trial,
                                    owner=cra, due_at=due(), title="For the CRA")
    assert (theirs.owner, theirs.escalation_user) == (cra, crm)


def test_only_the_crm_sets_deadlines_for_others_whatever_the_door(cra, trial, monitor, outsider):
    with pytest.raises(ApplicationError) as refused:
        deadline_create_manual(by=cra, kind="task", trial=trial,
                               owner=monitor, due_at=due(), title="Not mine to give")
    assert refused.value.field == "owner"
    with pytest.raises(ApplicationError):
        deadline_create_manual(by=outsider, kind="task", trial=trial,
                               due_at=due(), title="Foreign")
    assert not Deadline.objects.filter(title__in=["Not mine to give", "Foreign"]).exists()


def test_only_the_trials_crm_reassigns_and_never_to_a_self_escalation(crm, trial, cra, monitor):
    deadline = deadline_create_manual(by=crm, kind="task", trial=trial,
                                      owner=cra, due_at=due(), title="Move me")
    with pytest.raises(ApplicationError) as refused:
        deadline_reassign(deadline=deadline, owner=monitor, by=cra)
    assert refused.value.status == 403
    moved = deadline_reassign(deadline=deadline, owner=crm, by=crm)
    assert moved.owner == crm
    assert moved.escalation_user is None  # it escalated to the CRM, who now owns it
