"""Issue 4 services: lifecycles, the activation gate, documents, consent and re-consent."""

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
from trials.models import Milestone, Trial
from trials.services import (
    consent_version_create,
    milestone_create,
    milestone_update,
    trial_transition,
    trial_update,
)

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def deadlines(kind: str, **filters):
    return Deadline.objects.filter(kind=kind, **filters)


# ------------------------------------------------------------------------------ trial lifecycle


def test_trial_moves_only_along_its_lifecycle_and_each_step_is_audited(world):
    trial = world.trial_a
    with pytest.raises(ApplicationError) as refused:
        trial_transition(trial=trial, to="completed", by=world.crm, reason="Skip ahead")
    assert refused.value.field == "status"
    assert "Start-up" in refused.value.message  # the allowed next statuses are named
    assert Trial.objects.get(pk=trial.pk).status == "planning"
    for to in ("startup", "enrolling", "on_hold"):
        trial = trial_transition(trial=trial, to=to, by=world.crm, reason=f"Now {to}")
    # From on hold only back to where it was (or terminated).
    with pytest.raises(ApplicationError):
        trial_transition(trial=trial, to="follow_up", by=world.crm, reason="Jump")
    trial = trial_transition(trial=trial, to="enrolling", by=world.crm, reason="Hold lifted")
    assert trial.status == "enrolling"
    assert trial.status_before_hold == ""
    reasons = list(
        trial.history.order_by("history_id").values_list("history_change_reason", flat=True)
    )
    assert reasons[-4:] == ["Now startup", "Now enrolling", "Now on_hold", "Hold lifted"]


def test_editing_a_trial_cannot_bypass_the_lifecycle(world):
    with pytest.raises(ApplicationError) as refused:
        trial_update(trial=world.trial_a, by=world.crm, reason="Edit", status="completed")
    assert refused.value.field == "status"
    world.trial_a.refresh_from_db()
    assert world.trial_a.status == "planning"


def test_terminated_is_final(world):
    trial = trial_transition(trial=world.trial_b, to="terminated", by=world.admin, reason="Stop")
    with pytest.raises(ApplicationError, match="none"):
        trial_transition(trial=trial, to="startup", by=world.admin, reason="Restart")


# ---------------------------------------------------------------------------------- milestones


def test_milestone_slippage_against_the_baseline_and_its_deadline(world):
    planned = TODAY() + timedelta(days=40)
    lpi = milestone_create(trial=world.trial_a, by=world.crm, kind="lpi", planned_date=planned)
    assert lpi.baseline_date == planned
    assert lpi.slippage_days == 0
    deadline = deadlines("milestone", object_id=lpi.pk).get()
    assert deadline.owner == world.crm
    assert deadline.state == "open"
    lpi = milestone_update(
        milestone=lpi, by=world.crm, reason="Slow sites", planned_date=planned + timedelta(days=21)
    )
    assert lpi.baseline_date == planned
    assert lpi.slippage_days == 21
    deadline.refresh_from_db()
    assert deadline.due_at.date() == planned + timedelta(days=21)
    lpi = milestone_update(milestone=lpi, by=world.crm, reason="Reached", actual_date=TODAY())
    assert lpi.slippage_days == (TODAY() - planned).days
    deadline.refresh_from_db()
    assert deadline.state == "done"


def test_milestone_rules(world):
    with pytest.raises(ApplicationError) as twice:
        milestone_create(trial=world.trial_a, by=world.crm, kind="protocol_final")
    assert twice.value.field == "kind"
    with pytest.raises(ApplicationError) as unnamed:
        milestone_create(trial=world.trial_a, by=world.crm, kind="other")
    assert unnamed.value.field == "name"
    with pytest.raises(ApplicationError) as future:
        milestone_create(
            trial=world.trial_a, by=world.crm, kind="fpi", actual_date=TODAY() + timedelta(days=1)
        )
    assert future.value.field == "actual_date"
    assert Milestone.objects.filter(trial=world.trial_a).count() == 1


# ------------------------------------------------------------------ site lifecycle and the gate


def new_site(world, number="150", **fields) -> Site:
    return site_create(
        trial=world.trial_a,
        by=world.crm,
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
    for kind in required_document_kinds(site.trial):
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


def test_a_new_site_cannot_start_active(world):
    with pytest.raises(ApplicationError) as refused:
        new_site(world, status="active")
    assert refused.value.field == "status"
    assert not Site.objects.filter(number="150").exists()


def test_activation_needs_the_whole_checklist(world):
    site = walk_to_initiated(new_site(world), world.crm)
    file_required(
        site, world.cra, approver=world.crm, skip="form_fda_1572"
    )  # trial A has an IND: 1572 required
    with pytest.raises(ApplicationError) as refused:
        site_transition(site=site, to="active", by=world.crm, reason="Go")
    message = refused.value.message
    assert "Form FDA 1572" in message
    assert "agreement executed" in message
    assert "initiation visit" in message
    assert "Investigator's brochure" not in message
    assert Site.objects.get(pk=site.pk).status == "initiated"

    approved_document(
        site=site,
        filer=world.cra,
        approver=world.crm,
        kind="form_fda_1572",
        version="1",
        effective_on=TODAY(),
    )
    site = site_update(
        site=site,
        by=world.crm,
        reason="Contract and SIV",
        contract_executed_on=TODAY(),
        initiation_visit_on=TODAY(),
    )
    site = site_transition(site=site, to="active", by=world.crm, reason="Green light")
    assert site.status == "active"
    assert site.activated_on == TODAY()


def test_a_trial_without_ind_does_not_need_the_fda_forms(world):
    trial = world.trial_b
    assert "form_fda_1572" not in required_document_kinds(trial)
    assert "form_fda_1572" in required_document_kinds(world.trial_a)


def test_expired_or_unapproved_documents_do_not_count(world):
    site = walk_to_initiated(new_site(world), world.crm)
    file_required(site, world.cra, approver=world.crm, skip="investigator_cv")
    site_update(
        site=site,
        by=world.crm,
        reason="Dates",
        contract_executed_on=TODAY(),
        initiation_visit_on=TODAY(),
    )
    approved_document(
        site=site,
        filer=world.cra,
        approver=world.crm,
        kind="investigator_cv",
        version="2019",
        effective_on=date(2019, 1, 1),
        expires_on=date(2021, 1, 1),
    )
    document_create(
        site=site,
        by=world.cra,
        kind="investigator_cv",
        version="2026",
        effective_on=TODAY(),
        status="received",
    )
    site.refresh_from_db()
    checklist = site_checklist(site, list(site.documents.all()))
    assert checklist.missing == ["Investigator CV"]
    with pytest.raises(ApplicationError, match="Investigator CV"):
        site_transition(site=site, to="active", by=world.crm, reason="Go")


def test_status_sent_with_an_edit_goes_through_the_gate(world):
    site = walk_to_initiated(new_site(world), world.crm)
    with pytest.raises(ApplicationError) as refused:
        site_update(site=site, by=world.crm, reason="Activate", status="active")
    assert refused.value.field == "status"
    assert Site.objects.get(pk=site.pk).status == "initiated"


# ------------------------------------------------------------------------ documents and expiry


def test_document_expiry_is_a_deadline_of_the_sites_cra_and_renewal_closes_it(world):
    expires = TODAY() + timedelta(days=90)
    old = approved_document(
        site=world.site_a1,
        filer=world.cra,
        approver=world.crm,
        kind="lab_certification",
        version="2025",
        effective_on=TODAY() - timedelta(days=300),
        expires_on=expires,
    )
    deadline = deadlines("document_expiry", object_id=old.pk).get()
    assert deadline.owner == world.cra
    assert deadline.escalation_user == world.crm
    assert deadline.trial == world.trial_a
    assert deadline.due_at.date() == expires
    new = approved_document(
        site=world.site_a1,
        filer=world.cra,
        approver=world.crm,
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


def test_document_rules_and_an_edit_needs_a_reason(world):
    with pytest.raises(ApplicationError) as backwards:
        approved_document(
            site=world.site_a1,
            filer=world.cra,
            approver=world.crm,
            kind="investigator_cv",
            effective_on=TODAY(),
            expires_on=TODAY(),
        )
    assert backwards.value.field == "expires_on"
    with pytest.raises(ApplicationError) as undated:
        approved_document(
            site=world.site_a1, filer=world.cra, approver=world.crm, kind="investigator_cv"
        )
    assert undated.value.field == "effective_on"
    with pytest.raises(ApplicationError) as reasonless:
        document_update(document=world.document_a1, by=world.cra, reason="", version="4")
    assert reasonless.value.field == "change_reason"
    assert EssentialDocument.objects.get(pk=world.document_a1.pk).version == "3"


def test_rejecting_a_document_cancels_its_expiry_deadline(world):
    doc = approved_document(
        site=world.site_a1,
        filer=world.cra,
        approver=world.crm,
        kind="medical_licence",
        effective_on=TODAY(),
        expires_on=TODAY() + timedelta(days=30),
    )
    document_update(document=doc, by=world.crm, reason="Wrong person", status="rejected")
    assert deadlines("document_expiry", object_id=doc.pk).get().state == "cancelled"


# ------------------------------------------------------------------------ subjects and consent


def screen(world, number: str, **extra) -> Subject:
    return subject_screen(
        site=world.site_a1,
        by=world.cra,
        number=number,
        consent_version=world.icf_a,
        consented_on=TODAY(),
        **extra,
    )


def test_screening_needs_consent_to_an_effective_version_at_an_active_site(world):
    subject = screen(world, "101-002")
    assert subject.status == "screening"
    assert subject.consent_version == "1.0"
    assert ConsentRecord.objects.filter(subject=subject, is_reconsent=False).count() == 1
    with pytest.raises(ApplicationError) as inactive:
        subject_screen(
            site=world.site_a2,
            by=world.crm,
            number="102-009",
            consent_version=world.icf_a,
            consented_on=TODAY(),
        )
    assert inactive.value.field == "site"
    other = consent_version_create(trial=world.trial_a, by=world.crm, version="2.0")
    with pytest.raises(ApplicationError) as unapproved:
        subject_screen(
            site=world.site_a1,
            by=world.cra,
            number="101-003",
            consent_version=other,
            consented_on=TODAY(),
        )
    assert unapproved.value.field == "consent_version"
    with pytest.raises(ApplicationError) as named:
        subject_screen(
            site=world.site_a1,
            by=world.cra,
            number="John Smith",
            consent_version=world.icf_a,
            consented_on=TODAY(),
        )
    assert named.value.field == "number"
    assert not Subject.objects.filter(number__in=["101-003", "John Smith", "102-009"]).exists()


def test_subject_transitions_and_the_withdrawal_reason(world):
    subject = screen(world, "101-002")
    with pytest.raises(ApplicationError) as skip:
        subject_transition(subject=subject, to="completed", on=TODAY(), by=world.cra)
    assert skip.value.field == "status"
    subject = subject_transition(subject=subject, to="enrolled", on=TODAY(), by=world.cra)
    assert subject.enrolled_on == TODAY()
    with pytest.raises(ApplicationError) as no_reason:
        subject_transition(subject=subject, to="withdrawn", on=TODAY(), by=world.cra)
    assert no_reason.value.field == "withdrawal_reason"
    with pytest.raises(ApplicationError) as future:
        subject_transition(
            subject=subject,
            to="withdrawn",
            on=TODAY() + timedelta(days=1),
            by=world.cra,
            withdrawal_reason="Moved away",
        )
    assert future.value.field == "on"
    subject = subject_transition(
        subject=subject,
        to="withdrawn",
        on=TODAY(),
        by=world.cra,
        withdrawal_reason="Withdrew consent",
    )
    assert (subject.status, subject.withdrawal_reason) == ("withdrawn", "Withdrew consent")
    assert subject.history.latest().history_change_reason == "Subject withdrawn"
    with pytest.raises(ApplicationError):
        subject_transition(subject=subject, to="enrolled", on=TODAY(), by=world.cra)


def test_screen_failure(world):
    subject = subject_transition(
        subject=screen(world, "101-002"), to="screen_failed", on=TODAY(), by=world.cra
    )
    assert subject.screen_failed_on == TODAY()
    assert subject.enrolled_on is None


# ---------------------------------------------------------------------------------- re-consent


def test_a_new_icf_version_opens_reconsent_for_active_subjects_only(world):
    screening = screen(world, "101-002")
    done = subject_transition(
        subject=subject_transition(
            subject=screen(world, "101-003"), to="enrolled", on=TODAY(), by=world.cra
        ),
        to="completed",
        on=TODAY(),
        by=world.cra,
    )
    v2 = consent_version_create(trial=world.trial_a, by=world.crm, version="2.0")
    site_consent_version_add(
        site=world.site_a1,
        consent_version=v2,
        by=world.cra,
        ethics_approved_on=TODAY() - timedelta(days=3),
        effective_on=TODAY(),
    )
    open_for = set(deadlines("reconsent", state="open").values_list("object_id", flat=True))
    assert open_for == {world.subject_a1.pk, screening.pk}
    assert done.pk not in open_for
    deadline = deadlines("reconsent", object_id=world.subject_a1.pk).get()
    assert deadline.owner == world.cra
    assert deadline.escalation_user == world.crm
    assert deadline.due_at.date() == TODAY() + timedelta(days=30)

    record = consent_record(
        subject=world.subject_a1,
        consent_version=v2,
        consented_on=TODAY(),
        by=world.cra,
        obtained_by="Study nurse",
    )
    assert record.is_reconsent
    deadline.refresh_from_db()
    assert deadline.state == "done"
    world.subject_a1.refresh_from_db()
    assert world.subject_a1.consent_version == "2.0"
    # Leaving the study cancels what is still open.
    subject_transition(subject=screening, to="screen_failed", on=TODAY(), by=world.cra)
    assert deadlines("reconsent", object_id=screening.pk).get().state == "cancelled"


def test_a_future_icf_version_waits_for_its_effective_date(world):
    v2 = consent_version_create(trial=world.trial_a, by=world.crm, version="2.0")
    effective = TODAY() + timedelta(days=10)
    approval = site_consent_version_add(
        site=world.site_a1,
        consent_version=v2,
        by=world.cra,
        ethics_approved_on=TODAY(),
        effective_on=effective,
    )
    assert not deadlines("reconsent").exists()
    assert consent_versions_apply(today=TODAY()) == 0
    with pytest.raises(ApplicationError) as early:
        consent_record(
            subject=world.subject_a1, consent_version=v2, consented_on=TODAY(), by=world.cra
        )
    assert early.value.field == "consented_on"
    assert consent_versions_apply(today=effective) == 1
    assert deadlines("reconsent", object_id=world.subject_a1.pk, state="open").count() == 1
    assert consent_versions_apply(today=effective) == 0  # once per version and site
    approval.refresh_from_db()
    assert approval.reconsent_started_at is not None


def test_icf_version_rules(world):
    with pytest.raises(ApplicationError) as other_trial:
        site_consent_version_add(
            site=world.site_b1,
            consent_version=world.icf_a,
            by=world.admin,
            ethics_approved_on=TODAY(),
            effective_on=TODAY(),
        )
    assert other_trial.value.field == "consent_version"
    v2 = consent_version_create(trial=world.trial_a, by=world.crm, version="2.0")
    with pytest.raises(ApplicationError) as before_approval:
        site_consent_version_add(
            site=world.site_a1,
            consent_version=v2,
            by=world.cra,
            ethics_approved_on=TODAY(),
            effective_on=TODAY() - timedelta(days=1),
        )
    assert before_approval.value.field == "effective_on"
    with pytest.raises(ApplicationError) as twice:
        consent_version_create(trial=world.trial_a, by=world.crm, version="2.0")
    assert twice.value.field == "version"
