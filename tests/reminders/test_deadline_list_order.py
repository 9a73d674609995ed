"""Deadline lists at a CRO's scale (issue 13): open deadlines first by due time (so the overdue
lead), then the closed ones; an order the `deadline_list_order` index serves, and a visibility
whose OR branches (owner, escalation, the trials a CRM manages) each read an index, so that a
page costs what the reader may see, not the size of the table. On PostgreSQL, EXPLAIN with
sequential scans and sorts priced out shows that the plans exist; without them the planner
must fall back to what it was told to avoid."""

from datetime import timedelta

import pytest
from django.utils import timezone

from reminders.lists import trial_deadline_rows
from reminders.models import Deadline
from reminders.selectors import deadlines_for_list, deadlines_visible_to
from reminders.services import deadline_complete, deadline_create_manual
from tests.conftest import api_as
from tests.factories import SiteFactory, TrialFactory, cra_of, crm_of
from tests.plans import plan_without_scans_or_sorts as plan_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(db):
    trial = TrialFactory()
    crm = crm_of(trial)
    cra = cra_of(SiteFactory(trial=trial))
    now = timezone.now()
    made = {}
    for title, days, close in (("open-late", -2, False), ("open-soon", 3, False),
                               ("done-past", -5, True), ("done-future", 9, True),
                               ("open-later", 30, False), ("open-late-2", -1, False)):
        deadline = deadline_create_manual(by=crm, kind="task", trial=trial, owner=cra,
                                          title=title, due_at=now + timedelta(days=days))
        if close:
            deadline_complete(deadline=deadline, by=cra)
        made[title] = deadline
    return crm, cra, made


def test_lists_show_open_by_due_time_then_the_closed(team):
    crm, cra, _ = team
    expected = ["open-late", "open-late-2", "open-soon", "open-later", "done-past", "done-future"]
    rows = list(deadlines_for_list(queryset=deadlines_visible_to(user=crm)))
    assert [row.title for row in rows] == expected
    assert [row.overdue for row in rows] == [True, True, False, False, False, False]
    listed = api_as(cra).get("/api/v1/deadlines/").json()["results"]
    assert [row["title"] for row in listed] == expected
    assert [row["overdue"] for row in listed] == [True, True, False, False, False, False]


def test_the_overdue_filter_is_open_and_past_due(team):
    crm, _, _ = team
    client = api_as(crm)
    late = client.get("/api/v1/deadlines/", {"overdue": "true"}).json()["results"]
    assert [row["title"] for row in late] == ["open-late", "open-late-2"]
    rest = client.get("/api/v1/deadlines/", {"overdue": "false"}).json()
    assert rest["count"] == 4
    assert not any(row["overdue"] for row in rest["results"])


def test_a_closed_deadline_moves_behind_the_open_ones(team):
    crm, cra, made = team
    deadline_complete(deadline=made["open-late"], by=cra)
    assert Deadline.objects.get(pk=made["open-late"].pk).closed is True
    titles = [row.title for row in deadlines_for_list(queryset=deadlines_visible_to(user=crm))]
    assert titles[-3:] == ["done-past", "open-late", "done-future"]  # closed: by due time



def test_an_administrators_page_reads_the_list_order_index(postgres, team, django_user_model):
    admin = django_user_model.objects.create_superuser(username="plan_admin", password="x")
    plan = plan_of(deadlines_for_list(queryset=deadlines_visible_to(user=admin))[:50])
    assert "deadline_list_order" in plan, plan
    assert "Sort" not in plan, plan


def test_a_trials_page_reads_the_trials_own_order(postgres, team):
    """The trial deadlines page (open ones, the default) from the trial's own entries in list
    order: not the portal-wide order with every other trial's rows filtered out."""
    crm, _, made = team
    trial = made["open-late"].trial
    rows = trial_deadline_rows(user=crm, pk=trial.pk).filter(state="open")
    plan = plan_of(rows[:50])
    assert "deadline_trial_list_order" in plan, plan
    assert "Sort" not in plan, plan


def test_a_crms_visibility_combines_indexes_instead_of_reading_every_row(postgres, team):
    crm, cra, _ = team
    for reader in (crm, cra):
        plan = plan_of(deadlines_visible_to(user=reader))
        assert "Seq Scan on reminders_deadline" not in plan, plan
        assert "SubPlan" not in plan, plan


def test_the_api_count_adds_up_the_disjoint_scopes(team):
    """The CRM's count: every deadline of their trial, plus their own and escalated ones on
    no trial or on a trial they only see; nothing twice, nothing of a trial they cannot see."""
    from reminders.models import Deadline
    from reminders.selectors import deadlines_counted, deadlines_scoped
    from staffing.models import Role
    from tests.factories import assigned

    crm, cra, made = team
    seen_only = TrialFactory()
    assigned(crm, seen_only, Role.CRA)  # sees it, does not manage it
    elsewhere = TrialFactory()
    other_crm = crm_of(elsewhere)
    now = timezone.now()
    deadline_create_manual(by=crm, kind="task", trial=made["open-late"].trial, owner=crm,
                           title="mine-on-managed", due_at=now)
    deadline_create_manual(by=crm, kind="task", trial=seen_only, owner=crm,
                           title="mine-on-seen", due_at=now)
    deadline_create_manual(by=other_crm, kind="task", trial=elsewhere, owner=other_crm,
                           title="not-mine", due_at=now)
    for reader, titles in ((crm, 8), (cra, 6)):
        everything = Deadline.objects.all()
        listed = list(deadlines_scoped(queryset=everything, user=reader))
        assert len(listed) == titles
        assert deadlines_counted(queryset=everything, user=reader) == titles
        answer = api_as(reader).get("/api/v1/deadlines/", {"page_size": 2}).json()
        assert answer["count"] == titles
        assert len(answer["results"]) == 2
    assert "not-mine" not in [d.title for d in deadlines_scoped(queryset=Deadline.objects.all(),
                                                                 user=crm)]
