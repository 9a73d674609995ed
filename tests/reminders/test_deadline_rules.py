"""Who may set or reassign a hand-made deadline, and whom it escalates to, is the service's."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from croportal.exceptions import ApplicationError
from reminders.models import Deadline
from reminders.services import deadline_create_manual, deadline_reassign
from tests.conftest import api_as


def due():
    return timezone.now() + timedelta(days=3)


def test_a_deadline_someone_sets_for_themself_escalates_to_nobody(world):
    own = deadline_create_manual(by=world.cra, kind="task", trial=world.trial_a,
                                 due_at=due(), title="Chase CV")
    assert own.owner == world.cra
    assert own.escalation_user is None


def test_the_api_and_the_page_give_no_self_escalation_either(world, client):
    response = api_as(world.cra).post("/api/v1/deadlines/", {
        "kind": "task", "trial": world.trial_a.pk, "due_at": due().isoformat(),
        "title": "API task"}, format="json")
    assert response.status_code == 201, response.json()
    assert Deadline.objects.get(pk=response.json()["id"]).escalation_user is None
    client.force_login(world.cra)
    client.post(reverse("reminders:deadline_new"), {
        "kind": "task", "trial": world.trial_a.pk, "title": "Page task",
        "due": timezone.localtime(due()).strftime("%Y-%m-%dT%H:%M")})
    page = Deadline.objects.get(title="Page task")
    assert (page.owner, page.escalation_user) == (world.cra, None)


def test_escalating_to_the_owner_is_refused(world):
    with pytest.raises(ApplicationError) as refused:
        deadline_create_manual(by=world.crm, kind="task", trial=world.trial_a, owner=world.cra,
                               due_at=due(), title="X", escalation_user=world.cra)
    assert refused.value.field == "escalation_user"
    assert not Deadline.objects.filter(title="X").exists()


def test_a_deadline_the_crm_sets_for_someone_escalates_to_the_crm(world):
    theirs = deadline_create_manual(by=world.crm, kind="task", trial=world.trial_a,
                                    owner=world.cra, due_at=due(), title="For the CRA")
    assert (theirs.owner, theirs.escalation_user) == (world.cra, world.crm)


def test_only_the_crm_sets_deadlines_for_others_whatever_the_door(world):
    with pytest.raises(ApplicationError) as refused:
        deadline_create_manual(by=world.cra, kind="task", trial=world.trial_a,
                               owner=world.monitor, due_at=due(), title="Not mine to give")
    assert refused.value.field == "owner"
    with pytest.raises(ApplicationError):
        deadline_create_manual(by=world.outsider, kind="task", trial=world.trial_a,
                               due_at=due(), title="Foreign")
    assert not Deadline.objects.filter(title__in=["Not mine to give", "Foreign"]).exists()


def test_only_the_trials_crm_reassigns_and_never_to_a_self_escalation(world):
    deadline = deadline_create_manual(by=world.crm, kind="task", trial=world.trial_a,
                                      owner=world.cra, due_at=due(), title="Move me")
    with pytest.raises(ApplicationError) as refused:
        deadline_reassign(deadline=deadline, owner=world.monitor, by=world.cra)
    assert refused.value.status == 403
    moved = deadline_reassign(deadline=deadline, owner=world.crm, by=world.crm)
    assert moved.owner == world.crm
    assert moved.escalation_user is None  # it escalated to the CRM, who now owns it
