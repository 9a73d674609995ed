import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from croportal.audit import audited_save
from croportal.concurrency import apply_fields, lock_for_update
from croportal.exceptions import ApplicationError
from croportal.lifecycle import check_transition
from reminders.models import Deadline
from reminders.policies import Kind as DeadlineKind
from reminders.services import deadline_close, deadline_upsert
from sites.models import (
    ConsentRecord,
    DocumentKind,
    DocumentStatus,
    EssentialDocument,
    Site,
    SiteConsentVersion,
    SiteStatus,
    Subject,
    SubjectStatus,
)
from staffing.models import Assignment, Role, User
from staffing.services import user_timezone
from trials.models import ConsentVersion, Trial
from trials.selectors import trial_has_permission
from trials.services import trial_crm

# Status and the activation date move only through site_transition (DOMAIN B §7-8).
SITE_EDITABLE_FIELDS = (
    "number", "institution", "country", "city", "principal_investigator",
    "target_enrollment", "planned_activation_on", "contract_executed_on",
    "initiation_visit_on",
)
SITE_LIFECYCLE_FIELDS = ("status", "activated_on")


def country_code(value: str) -> str | None:
    """An ISO 3166-1 alpha-2 code in capitals ('de' → 'DE'), or None if it is not one."""
    code = (value or "").strip().upper()
    return code if re.fullmatch(r"[A-Z]{2}", code) else None


def _clean_country(fields: dict) -> None:
    if "country" in fields:
        code = country_code(fields["country"])
        if code is None:
            raise ApplicationError("Use the ISO 3166-1 alpha-2 country code.", field="country")
        fields["country"] = code


@transaction.atomic
def site_create(*, trial: Trial, by: User, status: str = SiteStatus.IDENTIFIED,
                **fields) -> Site:
    """Add a site to a trial. It starts identified, unless a registry import or the demo data
    says how far it already is (never active: activation goes through the checklist)."""
    _clean_country(fields)
    if Site.objects.filter(trial=trial, number=fields.get("number")).exists():
        raise ApplicationError("This trial already has a site with that number.", field="number")
    if status not in SiteStatus.values or status == SiteStatus.ACTIVE:
        raise ApplicationError("A new site starts before activation; activate it through its "
                               "checklist.", field="status")
    site = Site(trial=trial, status=status)
    apply_fields(site, fields, editable=SITE_EDITABLE_FIELDS)
    _check_site_dates(site)
    audited_save(site, by=by, reason="Site created")
    return site


@transaction.atomic
def site_update(*, site: Site, by: User, reason: str, expected_revision: int | None = None,
                **fields) -> Site:
    """Edit a site's fields (not its status or activation), locking the row and writing only
    what changed, with the reason recorded in its audit trail."""
    site = lock_for_update(site, expected_revision=expected_revision)
    for name in SITE_LIFECYCLE_FIELDS:
        if name in fields and fields.pop(name) != getattr(site, name):
            raise ApplicationError("A site's status and activation date change only through "
                                   "a lifecycle step.", field=name)
    _clean_country(fields)
    number = fields.get("number", site.number)
    if Site.objects.filter(trial_id=site.trial_id, number=number).exclude(pk=site.pk).exists():
        raise ApplicationError("This trial already has a site with that number.", field="number")
    changed = apply_fields(site, fields, editable=SITE_EDITABLE_FIELDS)
    _check_site_dates(site)
    if changed:
        audited_save(site, by=by, reason=reason, update_fields=changed)
    return site


def _check_site_dates(site: Site) -> None:
    """A site is activated only after its contract is executed and its SIV is held."""
    today = timezone.localdate()
    for name, label in (("contract_executed_on", "The contract"),
                        ("initiation_visit_on", "The initiation visit")):
        when = getattr(site, name)
        if when is None:
            continue
        if site.activated_on is not None and when > site.activated_on:
            raise ApplicationError(
                f"{label} cannot be dated after the site's activation "
                f"({site.activated_on:%Y-%m-%d}).", field=name)
        if name == "initiation_visit_on" and when > today:
            raise ApplicationError("A site initiation visit is recorded once it has been held; "
                                   "the date cannot be in the future.", field=name)


@transaction.atomic
def subject_create(*, site: Site, by: User, number: str, **fields) -> Subject:
    """Register a subject at a site under a pseudonymous number."""
    if Subject.objects.filter(trial_id=site.trial_id, number=number).exists():
        raise ApplicationError("This trial already has a subject with that number.",
                               field="number")
    subject = Subject(site=site, trial_id=site.trial_id, number=number, **fields)
    audited_save(subject, by=by, reason="Subject registered")
    return subject


# --- Site lifecycle (DOMAIN B §8) and the activation checklist (B §7) ----------------------

SITE_TRANSITIONS: dict[str, frozenset[str]] = {
    SiteStatus.IDENTIFIED: frozenset({SiteStatus.QUALIFIED, SiteStatus.CLOSED}),
    SiteStatus.QUALIFIED: frozenset({SiteStatus.SELECTED, SiteStatus.CLOSED}),
    SiteStatus.SELECTED: frozenset({SiteStatus.INITIATED, SiteStatus.CLOSED}),
    SiteStatus.INITIATED: frozenset({SiteStatus.ACTIVE, SiteStatus.CLOSED}),
    SiteStatus.ACTIVE: frozenset({SiteStatus.ON_HOLD, SiteStatus.CLOSED}),
    SiteStatus.ON_HOLD: frozenset({SiteStatus.ACTIVE, SiteStatus.CLOSED}),
    SiteStatus.CLOSED: frozenset(),
}

# Documents every site needs before activation; IND trials add the FDA forms (21 CFR 312.53).
REQUIRED_DOCUMENTS: tuple[str, ...] = (
    DocumentKind.INVESTIGATOR_BROCHURE, DocumentKind.SIGNED_PROTOCOL,
    DocumentKind.ETHICS_APPROVAL, DocumentKind.REGULATORY_APPROVAL,
    DocumentKind.INFORMED_CONSENT_FORM, DocumentKind.INVESTIGATOR_CV,
    DocumentKind.LAB_CERTIFICATION, DocumentKind.LAB_NORMAL_RANGES,
)
REQUIRED_FOR_IND: tuple[str, ...] = (
    DocumentKind.FORM_FDA_1572, DocumentKind.FINANCIAL_DISCLOSURE,
)


def required_document_kinds(trial: Trial) -> tuple[str, ...]:
    return REQUIRED_DOCUMENTS + (REQUIRED_FOR_IND if trial.ind_number else ())


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    label: str
    done: bool
    detail: str = ""


@dataclass(frozen=True)
class Checklist:
    items: tuple[ChecklistItem, ...]

    @property
    def complete(self) -> bool:
        return all(item.done for item in self.items)

    @property
    def missing(self) -> list[str]:
        return [item.label for item in self.items if not item.done]


def site_checklist(site: Site, documents: list[EssentialDocument],
                   today: date | None = None) -> Checklist:
    """The activation checklist from the site's documents (already fetched: no queries)."""
    today = today or timezone.localdate()
    items = []
    for kind in required_document_kinds(site.trial):
        of_kind = [d for d in documents if d.kind == kind and d.status == DocumentStatus.APPROVED]
        current = [d for d in of_kind if d.is_current(today)]
        if current:
            expires = min((d.expires_on for d in current if d.expires_on), default=None)
            detail = f"current, expires {expires:%Y-%m-%d}" if expires else "current"
        elif of_kind:
            detail = "expired or not yet effective"
        else:
            detail = "missing"
        items.append(ChecklistItem(f"document:{kind}", DocumentKind(kind).label, bool(current),
                                   detail))
    contract, siv = site.contract_executed_on, site.initiation_visit_on
    items.append(ChecklistItem(
        "contract", "Clinical trial agreement executed", contract is not None,
        f"executed {contract:%Y-%m-%d}" if contract else "not yet",
    ))
    items.append(ChecklistItem(
        "initiation_visit", "Site initiation visit done", siv is not None,
        f"done {siv:%Y-%m-%d}" if siv else "not yet",
    ))
    return Checklist(tuple(items))


def site_transitions_from(site: Site) -> list[str]:
    return [s for s in SiteStatus.values if s in SITE_TRANSITIONS[site.status]]


def _check_site_transition(site: Site, to: str) -> None:
    check_transition(what="site", statuses=SiteStatus, current=site.status, to=to,
                     allowed=site_transitions_from(site))
    if to == SiteStatus.ACTIVE:
        checklist = site_checklist(site, list(site.documents.all()))
        if not checklist.complete:
            raise ApplicationError(
                "The activation checklist is not complete: " + "; ".join(checklist.missing)
                + ".", field="status",
            )


def _apply_site_status(site: Site, to: str) -> None:
    if to == SiteStatus.ACTIVE and site.activated_on is None:
        site.activated_on = timezone.localdate()
    site.status = to


@transaction.atomic
def site_transition(*, site: Site, to: str, by: User, reason: str,
                    expected_revision: int | None = None, on: date | None = None) -> Site:
    """Move a site along its lifecycle; `active` needs a complete activation checklist. The
    activation is dated today, or `on` (the day it happened, never in the future)."""
    site = lock_for_update(site, expected_revision=expected_revision, related=("trial",))
    _check_site_transition(site, to)
    if to == SiteStatus.ACTIVE and on is not None and site.activated_on is None:
        if on > timezone.localdate():
            raise ApplicationError("A site cannot be activated in the future.", field="on")
        site.activated_on = on
    _apply_site_status(site, to)
    _check_site_dates(site)
    audited_save(site, by=by, reason=reason, update_fields=["status", "activated_on"])
    return site


# --- Essential documents -------------------------------------------------------------------

DOCUMENT_FIELDS = ("kind", "title", "version", "effective_on", "expires_on", "status")


def site_cra(site: Site, *, today: date | None = None) -> User | None:
    """The CRA who monitors the site (site-scoped assignment first, then trial-wide)."""
    today = today or timezone.localdate()
    assignment = (
        Assignment.objects.active_on(today)
        .filter(trial_id=site.trial_id, role=Role.CRA)
        .filter(Q(site=site) | Q(site__isnull=True))
        .select_related("user").order_by(F("site_id").asc(nulls_last=True), "start_date", "pk")
        .first()
    )
    return assignment.user if assignment else None


def _document_deadline_sync(document: EssentialDocument) -> None:
    """An approved document with an expiry date is a deadline of the site's CRA (escalating
    to the trial's CRM); superseded, rejected or undated documents have none."""
    site = document.site
    if document.status != DocumentStatus.APPROVED or document.expires_on is None:
        renewed = document.status == DocumentStatus.SUPERSEDED
        deadline_close(kind=DeadlineKind.DOCUMENT_EXPIRY, subject=document,
                       state=Deadline.State.DONE if renewed else Deadline.State.CANCELLED)
        return
    crm = trial_crm(site.trial_id)
    owner = site_cra(site) or crm
    if owner is None:
        return
    deadline_upsert(
        kind=DeadlineKind.DOCUMENT_EXPIRY, subject=document, owner=owner,
        due_at=datetime.combine(document.expires_on, time.min, tzinfo=user_timezone(owner)),
        title=f"{document.get_kind_display()} expires at site {site.number} "
              f"({site.trial.protocol_number})",
        trial=site.trial, escalation_user=crm if crm != owner else None,
        url=reverse("sites:detail", args=[site.pk]),
    )


def _check_document(document: EssentialDocument) -> None:
    if document.kind not in DocumentKind.values:
        raise ApplicationError("Unknown document kind.", field="kind")
    if document.status not in DocumentStatus.values:
        raise ApplicationError("Unknown document status.", field="status")
    if (document.expires_on and document.effective_on
            and document.expires_on <= document.effective_on):
        raise ApplicationError("The expiry date must be after the effective date.",
                               field="expires_on")
    if document.status == DocumentStatus.APPROVED and document.effective_on is None:
        raise ApplicationError("An approved document needs its effective date.",
                               field="effective_on")


def _supersede_older(document: EssentialDocument, by: User) -> None:
    """A newly approved version replaces the approved ones of the same kind it post-dates."""
    if document.status != DocumentStatus.APPROVED or document.kind == DocumentKind.OTHER:
        return
    older = (EssentialDocument.objects.select_for_update()
             .filter(site_id=document.site_id, kind=document.kind, status=DocumentStatus.APPROVED,
                     effective_on__lte=document.effective_on)
             .exclude(pk=document.pk).select_related("site__trial"))
    for old in older:
        old.status = DocumentStatus.SUPERSEDED
        audited_save(old, by=by, reason=f"Superseded by version {document.version or 'new'}")
        _document_deadline_sync(old)


REVIEW_DECISIONS = (DocumentStatus.APPROVED, DocumentStatus.REJECTED)


def _check_reviewer(document: EssentialDocument, by: User) -> None:
    """Approving or rejecting a document is the trial's CRM's review, and never the filer's."""
    trial = document.site.trial
    if not trial_has_permission(user=by, trial=trial, codename="change_trial"):
        raise ApplicationError("Only the trial's CRM approves or rejects essential documents.",
                               field="status", status=403)
    if document.filed_by_id is not None and document.filed_by_id == by.pk:
        raise ApplicationError("Whoever filed a document cannot approve or reject it: a second "
                               "person reviews it.", field="status", status=403)


@transaction.atomic
def document_create(*, site: Site, by: User, **fields) -> EssentialDocument:
    """File a document at a site (requested or received); the CRM reviews it afterwards."""
    document = EssentialDocument(site=site, filed_by=by)
    apply_fields(document, fields, editable=DOCUMENT_FIELDS)
    document.title = document.title or ""
    document.version = document.version or ""
    if document.status in REVIEW_DECISIONS:
        raise ApplicationError("A document is filed as requested or received; another person "
                               "(the trial's CRM) then approves or rejects it.", field="status")
    _check_document(document)
    audited_save(document, by=by, reason="Document filed")
    _document_deadline_sync(document)
    return document


@transaction.atomic
def document_update(*, document: EssentialDocument, by: User, reason: str,
                    expected_revision: int | None = None, **fields) -> EssentialDocument:
    """Edit a filed document; setting its status to approved or rejected is the review (the
    CRM's, not the filer's), with who and when recorded."""
    document = lock_for_update(document, expected_revision=expected_revision,
                               related=("site__trial",))
    for name in ("title", "version"):
        if name in fields and fields[name] is None:
            fields[name] = ""
    fields.pop("site", None)
    before = document.status
    changed = apply_fields(document, fields, editable=DOCUMENT_FIELDS)
    if "status" in changed and ({before, document.status} & {*REVIEW_DECISIONS,
                                                              DocumentStatus.SUPERSEDED}):
        _check_reviewer(document, by)
        document.reviewed_by, document.reviewed_at = by, timezone.now()
        changed += ["reviewed_by", "reviewed_at"]
    _check_document(document)
    if not changed:
        return document
    audited_save(document, by=by, reason=reason, update_fields=changed)
    _supersede_older(document, by)
    _document_deadline_sync(document)
    return document


# --- Consent: ICF versions at sites, subjects' consent, re-consent --------------------------

ACTIVE_SUBJECT_STATUSES = (SubjectStatus.SCREENING, SubjectStatus.ENROLLED)


def consent_versions_effective_at(site: Site, day: date) -> QuerySet[SiteConsentVersion]:
    return SiteConsentVersion.objects.filter(site=site, effective_on__lte=day)


def current_consent_version(site: Site, day: date | None = None) -> SiteConsentVersion | None:
    day = day or timezone.localdate()
    return (consent_versions_effective_at(site, day).select_related("consent_version")
            .order_by("-effective_on", "-pk").first())


@transaction.atomic
def site_consent_version_add(*, site: Site, consent_version: ConsentVersion, by: User,
                             ethics_approved_on: date, effective_on: date) -> SiteConsentVersion:
    """Record an ICF version's ethics approval and effective date at a site; once effective,
    the site's active subjects on older versions are due for re-consent."""
    if consent_version.trial_id != site.trial_id:
        raise ApplicationError("That ICF version belongs to another trial.",
                               field="consent_version")
    if effective_on < ethics_approved_on:
        raise ApplicationError("An ICF cannot take effect before its ethics approval.",
                               field="effective_on")
    if SiteConsentVersion.objects.filter(site=site, consent_version=consent_version).exists():
        raise ApplicationError("This ICF version is already recorded at the site.",
                               field="consent_version")
    approval = SiteConsentVersion(site=site, consent_version=consent_version,
                                  ethics_approved_on=ethics_approved_on, effective_on=effective_on)
    audited_save(approval, by=by, reason="ICF version approved at the site")
    if effective_on <= timezone.localdate():
        _reconsent_start(approval)
    return approval


def _reconsent_start(approval: SiteConsentVersion) -> int:
    """Open a re-consent deadline for each active subject of the site not yet on this version."""
    site = approval.site
    subjects = (Subject.objects.filter(site=site, status__in=ACTIVE_SUBJECT_STATUSES)
                .exclude(consents__consent_version=approval.consent_version)
                .select_related("trial"))
    crm = trial_crm(site.trial_id)
    owner = site_cra(site) or crm
    opened = 0
    if owner is not None:
        due_day = approval.effective_on + timedelta(days=settings.RECONSENT_DUE_DAYS)
        for subject in subjects:
            deadline_upsert(
                kind=DeadlineKind.RECONSENT, subject=subject, owner=owner,
                key=f"icf:{approval.consent_version_id}",
                due_at=datetime.combine(due_day, time.min, tzinfo=user_timezone(owner)),
                title=f"Re-consent subject {subject.number} on ICF "
                      f"{approval.consent_version.version} (site {site.number})",
                trial=site.trial, escalation_user=crm if crm != owner else None,
                url=reverse("sites:detail", args=[site.pk]),
            )
            opened += 1
    # Bookkeeping of the sweep, not a change to the regulated record: no history row.
    approval.reconsent_started_at = timezone.now()
    SiteConsentVersion.objects.filter(pk=approval.pk).update(
        reconsent_started_at=approval.reconsent_started_at)
    return opened


def consent_versions_apply(*, today: date | None = None) -> int:
    """Hourly: ICF versions that have become effective start their re-consent deadlines."""
    today = today or timezone.localdate()
    started = 0
    pending = (SiteConsentVersion.objects.filter(reconsent_started_at__isnull=True,
                                                 effective_on__lte=today)
               .values_list("pk", flat=True)[:500])
    for pk in list(pending):
        with transaction.atomic():
            approval = (SiteConsentVersion.objects.select_for_update(skip_locked=True)
                        .select_related("site__trial", "consent_version")
                        .filter(pk=pk, reconsent_started_at__isnull=True).first())
            if approval is not None:
                _reconsent_start(approval)
                started += 1
    return started


@transaction.atomic
def consent_record(*, subject: Subject, consent_version: ConsentVersion, consented_on: date,
                   by: User, obtained_by: str = "") -> ConsentRecord:
    """A subject signs an ICF version (re-consent when they had signed an earlier one)."""
    subject = Subject.objects.select_for_update().select_related("site").get(pk=subject.pk)
    if subject.status not in ACTIVE_SUBJECT_STATUSES:
        raise ApplicationError("Only subjects in screening or enrolled are re-consented.",
                               field="subject")
    _check_consent(subject, consent_version, consented_on)
    record = ConsentRecord(subject=subject, consent_version=consent_version,
                           consented_on=consented_on, obtained_by=obtained_by or "",
                           is_reconsent=subject.consents.exists())
    audited_save(record, by=by, reason="Re-consent" if record.is_reconsent else "Consent")
    subject.consented_on = consented_on
    subject.consent_version = consent_version.version
    verb = "Re-consented" if record.is_reconsent else "Consented"
    audited_save(subject, by=by, reason=f"{verb} on ICF {consent_version.version}")
    # Signing this version settles re-consent to it and to every version effective before it.
    effective = dict(SiteConsentVersion.objects.filter(site=subject.site_id)
                     .values_list("consent_version_id", "effective_on"))
    signed_from = effective[consent_version.pk]  # _check_consent: approved at this site
    for version_id, effective_on in effective.items():
        if version_id == consent_version.pk or effective_on < signed_from:
            deadline_close(kind=DeadlineKind.RECONSENT, subject=subject, key=f"icf:{version_id}")
    return record


def _check_consent(subject: Subject, consent_version: ConsentVersion, consented_on: date) -> None:
    if consent_version.trial_id != subject.trial_id:
        raise ApplicationError("That ICF version belongs to another trial.",
                               field="consent_version")
    approval = SiteConsentVersion.objects.filter(site=subject.site_id,
                                                 consent_version=consent_version).first()
    if approval is None:
        raise ApplicationError("That ICF version is not approved at this site.",
                               field="consent_version")
    if consented_on < approval.effective_on:
        raise ApplicationError(
            f"ICF {consent_version.version} is effective at this site from "
            f"{approval.effective_on:%Y-%m-%d}.", field="consented_on")
    if consented_on > timezone.localdate():
        raise ApplicationError("The consent date cannot be in the future.", field="consented_on")
    if ConsentRecord.objects.filter(subject=subject, consent_version=consent_version).exists():
        raise ApplicationError("The subject already signed that version.",
                               field="consent_version")


# --- Subjects (DOMAIN B §8) ------------------------------------------------------------------

SUBJECT_TRANSITIONS: dict[str, frozenset[str]] = {
    SubjectStatus.SCREENING: frozenset({SubjectStatus.SCREEN_FAILED, SubjectStatus.ENROLLED}),
    SubjectStatus.ENROLLED: frozenset({SubjectStatus.COMPLETED, SubjectStatus.WITHDRAWN}),
    SubjectStatus.SCREEN_FAILED: frozenset(),
    SubjectStatus.COMPLETED: frozenset(),
    SubjectStatus.WITHDRAWN: frozenset(),
}
_DATE_OF: dict[str, str] = {
    SubjectStatus.SCREEN_FAILED: "screen_failed_on",
    SubjectStatus.ENROLLED: "enrolled_on",
    SubjectStatus.COMPLETED: "completed_on",
    SubjectStatus.WITHDRAWN: "withdrawn_on",
}


def subject_transitions_from(subject: Subject) -> list[str]:
    return [s for s in SubjectStatus.values if s in SUBJECT_TRANSITIONS[subject.status]]


@transaction.atomic
def subject_screen(*, site: Site, by: User, number: str, consent_version: ConsentVersion,
                   consented_on: date, screened_on: date | None = None,
                   obtained_by: str = "") -> Subject:
    """A consented subject enters screening at an active site under a pseudonymous number."""
    site = Site.objects.select_for_update().select_related("trial").get(pk=site.pk)
    number = (number or "").strip()
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,29}", number):
        raise ApplicationError(
            "Use a pseudonymous subject number (letters, digits, '-', '_' or '.', up to 30).",
            field="number")
    if site.status != SiteStatus.ACTIVE:
        raise ApplicationError("Subjects are screened only at an active site.", field="site")
    screened_on = screened_on or consented_on
    if screened_on < consented_on:
        raise ApplicationError("Screening cannot start before consent.", field="screened_on")
    if screened_on > timezone.localdate():
        raise ApplicationError("The screening date cannot be in the future.",
                               field="screened_on")
    subject = subject_create(site=site, by=by, number=number, screened_on=screened_on,
                             consented_on=consented_on, consent_version=consent_version.version)
    _check_consent(subject, consent_version, consented_on)
    record = ConsentRecord(subject=subject, consent_version=consent_version,
                           consented_on=consented_on, obtained_by=obtained_by or "")
    audited_save(record, by=by, reason="Consent")
    return subject


@transaction.atomic
def subject_transition(*, subject: Subject, to: str, on: date, by: User, reason: str = "",
                       withdrawal_reason: str = "",
                       expected_revision: int | None = None) -> Subject:
    """Screening → screen failed | enrolled → completed | withdrawn (a reason is required)."""
    subject = lock_for_update(subject, expected_revision=expected_revision,
                              related=("site", "trial"))
    check_transition(what="subject", statuses=SubjectStatus, current=subject.status, to=to,
                     allowed=subject_transitions_from(subject))
    withdrawal_reason = (withdrawal_reason or "").strip()
    if to == SubjectStatus.WITHDRAWN and not withdrawal_reason:
        raise ApplicationError("Give the reason for the withdrawal.", field="withdrawal_reason")
    if on is None:
        raise ApplicationError("Give the date.", field="on")
    if on > timezone.localdate():
        raise ApplicationError("The date cannot be in the future.", field="on")
    start = subject.enrolled_on if to in (SubjectStatus.COMPLETED, SubjectStatus.WITHDRAWN) \
        else subject.screened_on or subject.consented_on
    if start is not None and on < start:
        raise ApplicationError(f"The date cannot be before {start:%Y-%m-%d}.", field="on")
    if to == SubjectStatus.ENROLLED and subject.site.status != SiteStatus.ACTIVE:
        raise ApplicationError("Subjects are enrolled only at an active site.", field="status")
    subject.status = to
    setattr(subject, _DATE_OF[to], on)
    if to == SubjectStatus.WITHDRAWN:
        subject.withdrawal_reason = withdrawal_reason
    label = SubjectStatus(to).label.lower()
    audited_save(subject, by=by, reason=(reason or "").strip() or f"Subject {label}")
    if to not in ACTIVE_SUBJECT_STATUSES:
        for key in Deadline.objects.filter(
            kind=DeadlineKind.RECONSENT, object_id=subject.pk, state=Deadline.State.OPEN,
            content_type=ContentType.objects.get_for_model(Subject),
        ).values_list("key", flat=True):
            deadline_close(kind=DeadlineKind.RECONSENT, subject=subject, key=key,
                           state=Deadline.State.CANCELLED)
    return subject
