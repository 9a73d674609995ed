from datetime import timedelta

import pytest
from django.utils import timezone

from access.roles import TRIAL_WIDE
from croportal.exceptions import ApplicationError
from sites.selectors import sites_visible_to
from staffing.models import Assignment, Role
from staffing.services import assignment_end, assignment_start, assignments_apply_dates
from tests.factories import (
    AdminFactory,
    SiteFactory,
    TrialFactory,
    UserFactory,
    cra_of,
    crm_of,
    sponsor_viewer_of,
)
from trials.models import TrialUserObjectPermission
from trials.selectors import trials_visible_to


def trial_codes(user, trial) -> set[str]:
    return set(
        TrialUserObjectPermission.objects.filter(user=user, content_object=trial)
        .values_list("permission__codename", flat=True)
    )


def test_starting_an_assignment_grants_exactly_the_roles_permissions(db):
    trial = TrialFactory()
    crm, cra = crm_of(trial), cra_of(SiteFactory(trial=trial))
    sponsor = sponsor_viewer_of(trial)
    assert trial_codes(crm, trial) == TRIAL_WIDE[Role.CRM]
    assert trial_codes(sponsor, trial) == {"view_trial", "view_all_sites"}
    assert trial_codes(cra, trial) == {"view_trial"}


def test_a_site_scoped_cra_sees_only_their_site(db):
    trial = TrialFactory()
    site_1, site_2 = SiteFactory(trial=trial), SiteFactory(trial=trial)
    cra, crm = cra_of(site_1), crm_of(trial)
    assert set(sites_visible_to(user=cra)) == {site_1}
    assert set(sites_visible_to(user=crm)) == {site_1, site_2}


def test_ending_an_assignment_revokes_access(db):
    trial = TrialFactory()
    crm = crm_of(trial)
    yesterday = timezone.localdate() - timedelta(days=1)
    assignment = Assignment.objects.get(user=crm, trial=trial)
    assignment_end(assignment=assignment, end_date=yesterday, by=AdminFactory(),
                   reason="Left the study team")
    assert trial_codes(crm, trial) == set()
    assert not trials_visible_to(user=crm).exists()


def test_ending_one_of_two_assignments_keeps_what_the_other_grants(db):
    trial = TrialFactory()
    site_1, site_2 = SiteFactory(trial=trial), SiteFactory(trial=trial)
    cra = cra_of(site_1)
    second = assignment_start(user=cra, trial=trial, site=site_2,
                              role=Role.CRA, by=AdminFactory(),
                              start_date=timezone.localdate() - timedelta(days=5))
    assert set(sites_visible_to(user=cra)) == {site_1, site_2}
    assignment_end(assignment=second, end_date=timezone.localdate() - timedelta(days=1),
                   by=AdminFactory(), reason="Site handed over")
    assert set(sites_visible_to(user=cra)) == {site_1}
    assert trial_codes(cra, trial) == {"view_trial"}


def test_a_sponsor_viewer_can_only_be_assigned_to_their_own_organisations_trials(db):
    trial = TrialFactory()
    outsider = sponsor_viewer_of(TrialFactory())  # another sponsor's viewer
    before = Assignment.objects.count()
    with pytest.raises(ApplicationError, match="own organisation"):
        assignment_start(user=outsider, trial=trial,
                         role=Role.SPONSOR_VIEWER, by=AdminFactory())
    assert Assignment.objects.count() == before
    assert trial_codes(outsider, trial) == set()


def test_sponsor_staff_cannot_hold_a_cro_role(db):
    trial = TrialFactory()
    sponsor = sponsor_viewer_of(trial)
    with pytest.raises(ApplicationError, match="CRO staff"):
        assignment_start(user=sponsor, trial=trial, role=Role.CRM, by=AdminFactory())
    assert trial_codes(sponsor, trial) == {"view_trial", "view_all_sites"}


def test_only_a_cra_can_be_scoped_to_a_site_of_the_same_trial(db):
    trial = TrialFactory()
    own_site, other_trials_site = SiteFactory(trial=trial), SiteFactory()
    newcomer = UserFactory(username="new_cra")
    with pytest.raises(ApplicationError, match="does not belong"):
        assignment_start(user=newcomer, trial=trial, site=other_trials_site,
                         role=Role.CRA, by=AdminFactory())
    with pytest.raises(ApplicationError, match="Only a CRA"):
        assignment_start(user=newcomer, trial=trial, site=own_site,
                         role=Role.CRM, by=AdminFactory())


def test_a_future_assignment_grants_nothing_until_its_start_date(db):
    trial = TrialFactory()
    newcomer = UserFactory(username="future_crm")
    tomorrow = timezone.localdate() + timedelta(days=1)
    assignment_start(user=newcomer, trial=trial, role=Role.CRM, by=AdminFactory(),
                     start_date=tomorrow)
    assert trial_codes(newcomer, trial) == set()
    assignments_apply_dates(today=tomorrow)
    assert trial_codes(newcomer, trial) == TRIAL_WIDE[Role.CRM]


def test_the_daily_task_revokes_an_assignment_whose_end_date_passed(db):
    trial = TrialFactory()
    newcomer = UserFactory(username="short_cra")
    today = timezone.localdate()
    assignment_start(user=newcomer, trial=trial, role=Role.CRA, by=AdminFactory(),
                     start_date=today, end_date=today)
    assert "view_trial" in trial_codes(newcomer, trial)
    assignments_apply_dates(today=today + timedelta(days=1))
    assert trial_codes(newcomer, trial) == set()


def test_assignment_history_records_who_and_why(db):
    trial = TrialFactory()
    crm, admin = crm_of(trial), AdminFactory()
    assignment = Assignment.objects.get(user=crm, trial=trial)
    assignment_end(assignment=assignment, end_date=timezone.localdate(), by=admin,
                   reason="Reallocated")
    latest = assignment.history.order_by("-history_id").first()
    assert latest.history_change_reason == "Reallocated"
    assert latest.history_user == admin
    assert latest.end_date == timezone.localdate()
