from datetime import timedelta

import pytest
from django.utils import timezone

from croportal.exceptions import ApplicationError
from sites.selectors import sites_visible_to
from staffing.models import Assignment, Role
from staffing.permissions import TRIAL_WIDE
from staffing.services import assignment_end, assignment_start, assignments_apply_dates
from tests.conftest import make_user
from trials.models import TrialUserObjectPermission
from trials.selectors import trials_visible_to


def trial_codes(user, trial) -> set[str]:
    return set(
        TrialUserObjectPermission.objects.filter(user=user, content_object=trial)
        .values_list("permission__codename", flat=True)
    )


def test_starting_an_assignment_grants_exactly_the_roles_permissions(world):
    assert trial_codes(world.crm, world.trial_a) == TRIAL_WIDE[Role.CRM]
    assert trial_codes(world.sponsor, world.trial_a) == {"view_trial", "view_all_sites"}
    assert trial_codes(world.cra, world.trial_a) == {"view_trial"}


def test_a_site_scoped_cra_sees_only_their_site(world):
    assert set(sites_visible_to(user=world.cra)) == {world.site_a1}
    assert set(sites_visible_to(user=world.crm)) == {world.site_a1, world.site_a2}


def test_ending_an_assignment_revokes_access(world):
    yesterday = timezone.localdate() - timedelta(days=1)
    assignment = Assignment.objects.get(user=world.crm, trial=world.trial_a)
    assignment_end(assignment=assignment, end_date=yesterday, by=world.admin,
                   reason="Left the study team")
    assert trial_codes(world.crm, world.trial_a) == set()
    assert not trials_visible_to(user=world.crm).exists()


def test_ending_one_of_two_assignments_keeps_what_the_other_grants(world):
    second = assignment_start(user=world.cra, trial=world.trial_a, site=world.site_a2,
                              role=Role.CRA, by=world.admin,
                              start_date=timezone.localdate() - timedelta(days=5))
    assert set(sites_visible_to(user=world.cra)) == {world.site_a1, world.site_a2}
    assignment_end(assignment=second, end_date=timezone.localdate() - timedelta(days=1),
                   by=world.admin, reason="Site handed over")
    assert set(sites_visible_to(user=world.cra)) == {world.site_a1}
    assert trial_codes(world.cra, world.trial_a) == {"view_trial"}


def test_a_sponsor_viewer_can_only_be_assigned_to_their_own_organisations_trials(world):
    before = Assignment.objects.count()
    with pytest.raises(ApplicationError, match="own organisation"):
        assignment_start(user=world.outsider, trial=world.trial_a,
                         role=Role.SPONSOR_VIEWER, by=world.admin)
    assert Assignment.objects.count() == before
    assert trial_codes(world.outsider, world.trial_a) == set()


def test_sponsor_staff_cannot_hold_a_cro_role(world):
    with pytest.raises(ApplicationError, match="CRO staff"):
        assignment_start(user=world.sponsor, trial=world.trial_a, role=Role.CRM, by=world.admin)
    assert trial_codes(world.sponsor, world.trial_a) == {"view_trial", "view_all_sites"}


def test_only_a_cra_can_be_scoped_to_a_site_of_the_same_trial(world):
    newcomer = make_user("new_cra", world.cro)
    with pytest.raises(ApplicationError, match="does not belong"):
        assignment_start(user=newcomer, trial=world.trial_a, site=world.site_b1,
                         role=Role.CRA, by=world.admin)
    with pytest.raises(ApplicationError, match="Only a CRA"):
        assignment_start(user=newcomer, trial=world.trial_a, site=world.site_a1,
                         role=Role.CRM, by=world.admin)


def test_a_future_assignment_grants_nothing_until_its_start_date(world):
    newcomer = make_user("future_crm", world.cro)
    tomorrow = timezone.localdate() + timedelta(days=1)
    assignment_start(user=newcomer, trial=world.trial_a, role=Role.CRM, by=world.admin,
                     start_date=tomorrow)
    assert trial_codes(newcomer, world.trial_a) == set()
    assignments_apply_dates(today=tomorrow)
    assert trial_codes(newcomer, world.trial_a) == TRIAL_WIDE[Role.CRM]


def test_the_daily_task_revokes_an_assignment_whose_end_date_passed(world):
    newcomer = make_user("short_cra", world.cro)
    today = timezone.localdate()
    assignment_start(user=newcomer, trial=world.trial_a, role=Role.CRA, by=world.admin,
                     start_date=today, end_date=today)
    assert "view_trial" in trial_codes(newcomer, world.trial_a)
    assignments_apply_dates(today=today + timedelta(days=1))
    assert trial_codes(newcomer, world.trial_a) == set()


def test_assignment_history_records_who_and_why(world):
    assignment = Assignment.objects.get(user=world.crm, trial=world.trial_a)
    assignment_end(assignment=assignment, end_date=timezone.localdate(), by=world.admin,
                   reason="Reallocated")
    latest = assignment.history.order_by("-history_id").first()
    assert latest.history_change_reason == "Reallocated"
    assert latest.history_user == world.admin
    assert latest.end_date == timezone.localdate()
