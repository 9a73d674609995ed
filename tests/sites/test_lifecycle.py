"""Trial, site and subject services: lifecycles, milestones, the activation gate, documents,
consent and re-consent."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from croportal.exceptions import ApplicationError
from reminders.models import Deadline
from sites.models import ConsentRecord, EssentialDocument, Site, Subject
from sites.services import (
    consent_record,
    consent_versions_apply,
    document_create,
    document_update,
    required_document_kinds,
    site_checklist,
    site_consent_version_add,
    site_create,
    site_transition,
    site_update,
    subject_screen,
    subject_transition,
)
from tests.conftest import approved_document
from tests.factories import (
    AdminFactory,
    EssentialDocumentFactory,
    MilestoneFactory,
    SiteConsentVersionFactory,
    SiteFactory,
    SubjectFactory,
    TrialFactory,
)
from trials.models import Milestone, Trial
from trials.services import (
    consent_version_create,
    milestone_create,
    milestone_update,
    trial_transition,
    trial_update,
)


@pytest.fixture
def trial(db):
    """A trial under an IND: its sites need the FDA forms too."""
    return TrialFactory(ind_number="123456")


@pytest.fixture
def site(trial):
    return SiteFactory(trial=trial, number="101", activated=True)


@pytest.fixture
def second_site(trial):
    """A site not yet active."""
    return SiteFactory(trial=trial)


@pytest.fixture
def other_trials_site(db):
    return SiteFactory()


@pytest.fixture
def other_trial(db):
    """A trial without an IND."""
    return TrialFactory()


@pytest.fixture
def milestone(trial):
    return MilestoneFactory(trial=trial, kind="protocol_final", planned_date=date(2026, 1, 15),
                            actual_date=date(2026, 1, 20))


@pytest.fixture
def icf(site):
    """ICF 1.0 of the trial, approved and effective at the site."""
    return SiteConsentVersionFactory(site=site, consent_version__version="1.0",
                                     ethics_approved_on=date(2026, 2, 1),
                                     effective_on=date(2026, 2, 10)).consent_version


@pytest.fixture
def subject(site, icf):
    """Enrolled at the site, consented to ICF 1.0."""
    subject = SubjectFactory(site=site, number="101-001", enrolled=True,
                             enrolled_on=date(2026, 5, 1))
    consent_record(subject=subject, consent_version=icf, consented_on=date(2026, 4, 20),
                   by=AdminFactory())
    subject.refresh_from_db()
    return subject


@pytest.fixture
def document(site, cra, admin):
    """Version 3 of the site's delegation log, filed by its CRA, approved by another person."""
    return EssentialDocumentFactory(site=site, by=cra, kind="delegation_log", version="3",
                                    effective_on=date(2026, 4, 1), approved_by=admin)

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def deadlines(kind: str, **filters):
    return Deadline.objects.filter(kind=kind, **filters)


# ------------------------------------------------------------------------------ trial lifecycle


def test_trial_moves_only_along_its_lifecycle_and_each_step_is_audited(trial, crm):
    with pytest.raises(ApplicationError) as refused:
        trial_transition(trial=trial, to="completed", by=crm, reason="Skip ahead")
    assert refused.value.field == "status"
    assert "Start-up" in refused.value.message  # the allowed next statuses are named
    assert Trial.objects.get(pk=trial.pk).status == "planning"
    for to in ("startup", "enrolling", "on_hold"):
        trial = trial_transition(trial=trial, to=to, by=crm, reason=f"Now {to}")
    # From on hold only back to where it was (or terminated).
    with pytest.raises(ApplicationError):
        trial_transition(trial=trial, to="follow_up", by=crm, reason="Jump")
    trial = trial_transition(trial=trial, to="enrolling", by=crm, reason="Hold lifted")
    assert trial.status == "enrolling"
    assert trial.status_before_hold == ""
    reasons = list(
        trial.history.order_by("history_id").values_list("history_change_reason", flat=True)
    )
    assert reasons[-4:] == ["Now startup", "Now enrolling", "Now on_hold", "Hold lifted"]


def test_editing_a_trial_cannot_bypass_the_lifecycle(trial, crm):
    with pytest.raises(ApplicationError) as refused:
        trial_update(trial=trial, by=crm, reason="Edit", status="completed")
    assert refused.value.field == "status"
    trial.refresh_from_db()
    assert trial.status == "planning"


def test_terminated_is_final(other_trial, admin):
    trial = trial_transition(trial=other_trial, to="terminated", by=admin, reason="Stop")
    with pytest.raises(ApplicationError, match="none"):
        trial_transition(trial=trial, to="startup", by=admin, reason="Restart")


# ---------------------------------------------------------------------------------- milestones


def test_milestone_slippage_against_the_baseline_and_its_deadline(trial, crm):
    planned = TODAY() + timedelta(days=40)
    lpi = milestone_create(trial=trial, by=crm, kind="lpi", planned_date=planned)
    assert lpi.baseline_date == planned
    assert lpi.slippage_days == 0
    deadline = deadlines("milestone", object_id=lpi.pk).get()
    assert deadline.owner == crm
    assert deadline.state == "open"
    lpi = milestone_update(
        milestone=lpi, by=crm, reason="Slow sites", planned_date=planned + timedelta(days=21)
    )
    assert lpi.baseline_date == planned
    assert lpi.slippage_days == 21
    deadline.refresh_from_db()
    assert deadline.due_at.date() == planned + timedelta(days=21)
    lpi = milestone_update(milestone=lpi, by=crm, reason="Reached", actual_date=TODAY())
    assert lpi.slippage_days == (TODAY() - planned).days
    deadline.refresh_from_db()
    assert deadline.state == "done"


def test_milestone_rules(trial, crm, milestone):
    with pytest.raises(ApplicationError) as twice:
        milestone_create(trial=trial, by=crm, kind="protocol_final")
    assert twice.value.field == "kind"
    with pytest.raises(ApplicationError) as unnamed:
        milestone_create(trial=trial, by=crm, kind="other")
    assert unnamed.value.field == "name"
    with pytest.raises(ApplicationError) as future:
        milestone_create(
            trial=trial, by=crm, kind="fpi", actual_date=TODAY() + timedelta(days=1)
        )
    assert future.value.field == "actual_date"
    assert Milestone.objects.filter(trial=trial).count() == 1


# ------------------------------------------------------------------ site lifecycle and the gate


def new_site(trial, crm, number="150", **fields) -> Site:
    return site_create(
        trial=trial,
        by=crm,
        number=number,
        institution="Delta",
        country="es",
        **fields,
    )


def walk_to_initiated(site: Site, by) -> Site:
    for to in ("qualified", "selected", "initiated"):
        site = site_transition(site=site, to=to, by=by, reason=f"Site {to}")
    return site


def file_required(
    site: Site, by, *, approver, skip: str = "", expires_on: date | None = None
) -> None:
    for kind in required_document_kinds(trial=site.trial):
        if kind != skip:
            approved_document(
                site=site,
                filer=by,
                approver=approver,
                kind=kind,
                version="1",
                effective_on=TODAY() - timedelta(days=5),
                expires_on=expires_on,
            )


def test_a_new_site_cannot_start_active(trial, crm):
    with pytest.raises(ApplicationError) as refused:
        new_site(trial, crm, status="active")
    assert refused.value.field == "status"
    assert not Site.objects.filter(number="150").exists()


def test_activation_needs_the_whole_checklist(crm, cra, trial):
    site = walk_to_initiated(new_site(trial, crm), crm)
    file_required(
        site, cra, approver=crm, skip="form_fda_1572"
    )  # trial A has an IND: 1572 required
    with pytest.raises(ApplicationError) as refused:
        site_transition(site=site, to="active", by=crm, reason="Go")
    message = refused.value.message
    assert "Form FDA 1572" in message
    assert "agreement executed" in message
    assert "initiation visit" in message
    assert "Investigator's brochure" not in message
    assert Site.objects.get(pk=site.pk).status == "initiated"

    approved_document(
        site=site,
        filer=cra,
        approver=crm,
        kind="form_fda_1572",
        version="1",
        effective_on=TODAY(),
    )
    site = site_update(
        site=site,
        by=crm,
        reason="Contract and SIV",
        contract_executed_on=TODAY(),
        initiation_visit_on=TODAY(),
    )
    site = site_transition(site=site, to="active", by=crm, reason="Green light")
    assert site.status == "active"
    assert site.activated_on == TODAY()


def test_a_trial_without_ind_does_not_need_the_fda_forms(other_trial, trial):
    assert "form_fda_1572" not in required_document_kinds(trial=other_trial)
    assert "form_fda_1572" in required_document_kinds(trial=trial)


def test_expired_or_unapproved_documents_do_not_count(crm, cra, trial):
    site = walk_to_initiated(new_site(trial, crm), crm)
    file_required(site, cra, approver=crm, skip="investigator_cv")
    site_update(
        site=site,
        by=crm,
        reason="Dates",
        contract_executed_on=TODAY(),
        initiation_visit_on=TODAY(),
    )
    approved_document(
        site=site,
        filer=cra,
        approver=crm,
        kind="investigator_cv",
        version="2019",
        effective_on=date(2019, 1, 1),
        expires_on=date(2021, 1, 1),
    )
    document_create(
        site=site,
        by=cra,
        kind="investigator_cv",
        version="2026",
        effective_on=TODAY(),
        status="received",
    )
    site.refresh_from_db()
    checklist = site_checklist(site=site, documents=list(site.documents.all()))
    assert checklist.missing == ["Investigator CV"]
    with pytest.raises(ApplicationError, match="Investigator CV"):
        site_transition(site=site, to="active", by=crm, reason="Go")


def test_status_sent_with_an_edit_goes_through_the_gate(crm, trial):
    site = walk_to_initiated(new_site(trial, crm), crm)
    with pytest.raises(ApplicationError) as refused:
        site_update(site=site, by=crm, reason="Activate", status="active")
    assert refused.value.field == "status"
    assert Site.objects.get(pk=site.pk).status == "initiated"


# ------------------------------------------------------------------------ documents and expiry


def test_document_expiry_is_a_deadline_of_the_sites_cra_and_renewal_closes_it(
        site, cra, crm, trial):
    expires = TODAY() + timedelta(days=90)
    old = approved_document(
        site=site,
        filer=cra,
        approver=crm,
        kind="lab_certification",
        version="2025",
        effective_on=TODAY() - timedelta(days=300),
        expires_on=expires,
    )
    deadline = deadlines("document_expiry", object_id=old.pk).get()
    assert deadline.owner == cra
    assert deadline.escalation_user == crm
    assert deadline.trial == trial
    assert deadline.due_at.date() == expires
    new = approved_document(
        site=site,
        filer=cra,
        approver=crm,
        kind="lab_certification",
        version="2026",
        effective_on=TODAY(),
        expires_on=TODAY() + timedelta(days=730),
    )
    old.refresh_from_db()
    deadline.refresh_from_db()
    assert old.status == "superseded"
    assert deadline.state == "done"
    assert deadlines("document_expiry", object_id=new.pk, state="open").count() == 1
    assert old.history.latest().history_change_reason == "Superseded by version 2026"


def test_document_rules_and_an_edit_needs_a_reason(site, cra, crm, document):
    with pytest.raises(ApplicationError) as backwards:
        approved_document(
            site=site,
            filer=cra,
            approver=crm,
            kind="investigator_cv",
            effective_on=TODAY(),
            expires_on=TODAY(),
        )
    assert backwards.value.field == "expires_on"
    with pytest.raises(ApplicationError) as undated:
        approved_document(
            site=site, filer=cra, approver=crm, kind="investigator_cv"
        )
    assert undated.value.field == "effective_on"
    with pytest.raises(ApplicationError) as reasonless:
        document_update(document=document, by=cra, reason="", version="4")
    assert reasonless.value.field == "change_reason"
    assert EssentialDocument.objects.get(pk=document.pk).version == "3"


def test_rejecting_a_document_cancels_its_expiry_deadline(site, cra, crm):
    doc = approved_document(
        site=site,
        filer=cra,
        approver=crm,
        kind="medical_licence",
        effective_on=TODAY(),
        expires_on=TODAY() + timedelta(days=30),
    )
    document_update(document=doc, by=crm, reason="Wrong person", status="rejected")
    assert deadlines("document_expiry", object_id=doc.pk).get().state == "cancelled"


# ------------------------------------------------------------------------ subjects and consent


def screen(site, cra, icf, number: str, **extra) -> Subject:
    return subject_screen(
        site=site,
        by=cra,
        number=number,
        consent_version=icf,
        consented_on=TODAY(),
        **extra,
    )


def test_screening_needs_consent_to_an_effective_version_at_an_active_site(
        second_site, crm, icf, trial, site, cra):
    subject = screen(site, cra, icf, "101-002")
    assert subject.status == "screening"
    assert subject.consent_version == "1.0"
    assert ConsentRecord.objects.filter(subject=subject, is_reconsent=False).count() == 1
    with pytest.raises(ApplicationError) as inactive:
        subject_screen(
            site=second_site,
            by=crm,
            number="102-009",
            consent_version=icf,
            consented_on=TODAY(),
        )
    assert inactive.value.field == "site"
    other = consent_version_create(trial=trial, by=crm, version="2.0")
    with pytest.raises(ApplicationError) as unapproved:
        subject_screen(
            site=site,
            by=cra,
            number="101-003",
            consent_version=other,
            consented_on=TODAY(),
        )
    assert unapproved.value.field == "consent_version"
    with pytest.raises(ApplicationError) as named:
        subject_screen(
            site=site,
            by=cra,
            number="John Smith",
            consent_version=icf,
            consented_on=TODAY(),
        )
    assert named.value.field == "number"
    assert not Subject.objects.filter(number__in=["101-003", "John Smith", "102-009"]).exists()


def test_subject_transitions_and_the_withdrawal_reason(cra, site, icf):
    subject = screen(site, cra, icf, "101-002")
    with pytest.raises(ApplicationError) as skip:
        subject_transition(subject=subject, to="completed", on=TODAY(), by=cra)
    assert skip.value.field == "status"
    subject = subject_transition(subject=subject, to="enrolled", on=TODAY(), by=cra)
    assert subject.enrolled_on == TODAY()
    with pytest.raises(ApplicationError) as no_reason:
        subject_transition(subject=subject, to="withdrawn", on=TODAY(), by=cra)
    assert no_reason.value.field == "withdrawal_reason"
    with pytest.raises(ApplicationError) as future:
        subject_transition(
            subject=subject,
            to="withdrawn",
            on=TODAY() + timedelta(days=1),
            by=cra,
            withdrawal_reason="Moved away",
        )
    assert future.value.field == "on"
    subject = subject_transition(
        subject=subject,
        to="withdrawn",
        on=TODAY(),
        by=cra,
        withdrawal_reason="Withdrew consent",
    )
    assert (subject.status, subject.withdrawal_reason) == ("withdrawn", "Withdrew consent")
    assert subject.history.latest().history_change_reason == "Subject withdrawn"
    with pytest.raises(ApplicationError):
        subject_transition(subject=subject, to="enrolled", on=TODAY(), by=cra)


def test_screen_failure(cra, site, icf):
    subject = subject_transition(
        subject=screen(site, cra, icf, "101-002"), to="screen_failed", on=TODAY(), by=cra
    )
    assert subject.screen_failed_on == TODAY()
    assert subject.enrolled_on is None


# ---------------------------------------------------------------------------------- re-consent


def test_a_new_icf_version_opens_reconsent_for_active_subjects_only(
        cra, trial, crm, site, subject, icf):
    screening = screen(site, cra, icf, "101-002")
    done = subject_transition(
        subject=subject_transition(
            subject=screen(site, cra, icf, "101-003"), to="enrolled", on=TODAY(), by=cra
        ),
        to="completed",
        on=TODAY(),
        by=cra,
    )
    v2 = consent_version_create(trial=trial, by=crm, version="2.0")
    site_consent_version_add(
        site=site,
        consent_version=v2,
        by=cra,
        ethics_approved_on=TODAY() - timedelta(days=3),
        effective_on=TODAY(),
    )
    open_for = set(deadlines("reconsent", state="open").values_list("object_id", flat=True))
    assert open_for == {subject.pk, screening.pk}
    assert done.pk not in open_for
    deadline = deadlines("reconsent", object_id=subject.pk).get()
    assert deadline.owner == cra
    assert deadline.escalation_user == crm
    assert deadline.due_at.date() == TODAY() + timedelta(days=30)

    record = consent_record(
        subject=subject,
        consent_version=v2,
        consented_on=TODAY(),
        by=cra,
        obtained_by="Study nurse",
    )
    assert record.is_reconsent
    deadline.refresh_from_db()
    assert deadline.state == "done"
    subject.refresh_from_db()
    assert subject.consent_version == "2.0"
    # Leaving the study cancels what is still open.
    subject_transition(subject=screening, to="screen_failed", on=TODAY(), by=cra)
    assert deadlines("reconsent", object_id=screening.pk).get().state == "cancelled"


def test_a_future_icf_version_waits_for_its_effective_date(trial, crm, site, cra, subject):
    v2 = consent_version_create(trial=trial, by=crm, version="2.0")
    effective = TODAY() + timedelta(days=10)
    approval = site_consent_version_add(
        site=site,
        consent_version=v2,
        by=cra,
        ethics_approved_on=TODAY(),
        effective_on=effective,
    )
    assert not deadlines("reconsent").exists()
    assert consent_versions_apply(today=TODAY()) == 0
    with pytest.raises(ApplicationError) as early:
        consent_record(
            subject=subject, consent_version=v2, consented_on=TODAY(), by=cra
        )
    assert early.value.field == "consented_on"
    assert consent_versions_apply(today=effective) == 1
    assert deadlines("reconsent", object_id=subject.pk, state="open").count() == 1
    assert consent_versions_apply(today=effective) == 0  # once per version and site
    approval.refresh_from_db()
    assert approval.reconsent_started_at is not None


def test_icf_version_rules(other_trials_site, icf, admin, trial, crm, site, cra):
    with pytest.raises(ApplicationError) as other_trial:
        site_consent_version_add(
            site=other_trials_site,
            consent_version=icf,
            by=admin,
            ethics_approved_on=TODAY(),
            effective_on=TODAY(),
        )
    assert other_trial.value.field == "consent_version"
    v2 = consent_version_create(trial=trial, by=crm, version="2.0")
    with pytest.raises(ApplicationError) as before_approval:
        site_consent_version_add(
            site=site,
            consent_version=v2,
            by=cra,
            ethics_approved_on=TODAY(),
            effective_on=TODAY() - timedelta(days=1),
        )
    assert before_approval.value.field == "effective_on"
    with pytest.raises(ApplicationError) as twice:
        consent_version_create(trial=trial, by=crm, version="2.0")
    assert twice.value.field == "version"
