"""The factories make rows as the portal does: through its services, with their history, the
personas' permissions granted by the assignment service, statuses in their initial state."""

from access.roles import TRIAL_WIDE
from staffing.models import Assignment, Role
from tests.factories import (
    AdminFactory,
    AdverseEventFactory,
    DeadlineFactory,
    EssentialDocumentFactory,
    MilestoneFactory,
    SiteFactory,
    SubjectFactory,
    TrialFactory,
    cra_of,
    crm_of,
    monitor_of,
    sponsor_viewer_of,
)
from trials.models import TrialUserObjectPermission


def trial_codes(user, trial) -> set[str]:
    return set(TrialUserObjectPermission.objects.filter(user=user, content_object=trial)
               .values_list("permission__codename", flat=True))


def test_a_trial_starts_in_planning_with_its_creation_in_history_and_nobody_assigned(db):
    trial = TrialFactory()
    assert trial.status == "planning"
    assert trial.history.get().history_user == AdminFactory()
    assert not Assignment.objects.filter(trial=trial).exists()


def test_personas_hold_exactly_their_roles_permissions(db):
    trial = TrialFactory()
    site = SiteFactory(trial=trial)
    crm, cra, monitor = crm_of(trial), cra_of(site), monitor_of(trial)
    sponsor = sponsor_viewer_of(trial)
    assert trial_codes(crm, trial) == TRIAL_WIDE[Role.CRM]
    assert trial_codes(monitor, trial) == TRIAL_WIDE[Role.MEDICAL_MONITOR]
    assert trial_codes(cra, trial) == {"view_trial"}
    assert trial_codes(sponsor, trial) == {"view_trial", "view_all_sites"}
    assert sponsor.organisation == trial.sponsor
    assert crm.organisation == cra.organisation == monitor.organisation
    assert (crm.first_name, cra.first_name) == ("Crm", "Cra")


def test_a_site_starts_identified_and_activated_only_through_the_checklist(db):
    identified, active = SiteFactory(), SiteFactory(activated=True)
    assert (identified.status, identified.activated_on) == ("identified", None)
    assert active.status == "active"
    assert active.history.first().history_change_reason == "Checklist complete"


def test_records_are_made_by_their_services(db):
    trial = TrialFactory()
    crm = crm_of(trial)
    milestone = MilestoneFactory(trial=trial)
    assert milestone.history.get().history_change_reason == "Milestone added"
    assert milestone.baseline_date == milestone.planned_date
    assert trial.deadlines.get().owner == crm  # a planned milestone is the CRM's deadline
    document = EssentialDocumentFactory(site=SiteFactory(trial=trial), approved_by=crm,
                                        effective_on=milestone.planned_date)
    assert (document.status, document.reviewed_by) == ("approved", crm)
    event = AdverseEventFactory(subject=SubjectFactory(site=document.site, enrolled=True))
    assert (event.subject.status, event.review_status) == ("enrolled", "pending")


def test_a_deadline_follows_the_rules_of_who_sets_it_for_whom(db):
    trial = TrialFactory()
    site = SiteFactory(trial=trial)
    crm, cra = crm_of(trial), cra_of(site)
    own = DeadlineFactory(trial=trial, by=cra)
    assert (own.owner, own.escalation_user) == (cra, None)
    theirs = DeadlineFactory(trial=trial, site=site, by=crm, owner=cra)
    assert (theirs.owner, theirs.escalation_user, theirs.url) == (cra, crm, f"/sites/{site.pk}/")
