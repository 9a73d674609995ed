"""Consent: ICF versions approved at sites, subjects' consent, and re-consent when a new
version takes effect."""

from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from croportal.audit import audited_save
from croportal.exceptions import ApplicationError
from croportal.formats import format_date
from croportal.timezones import start_of_day
from reminders.policies import Kind as DeadlineKind
from reminders.services import deadline_close, deadline_upsert
from sites.models import (
    ConsentRecord,
    Site,
    SiteConsentVersion,
    Subject,
    SubjectStatus,
)
from staffing.models import User
from staffing.selectors import site_cra, trial_crm
from trials.models import ConsentVersion

ACTIVE_SUBJECT_STATUSES = (SubjectStatus.SCREENING, SubjectStatus.ENROLLED)


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
    crm = trial_crm(trial_id=site.trial_id)
    owner = site_cra(site=site) or crm
    opened = 0
    if owner is not None:
        due_day = approval.effective_on + timedelta(days=settings.RECONSENT_DUE_DAYS)
        for subject in subjects:
            deadline_upsert(
                kind=DeadlineKind.RECONSENT, subject=subject, owner=owner,
                key=f"icf:{approval.consent_version_id}",
                due_at=start_of_day(due_day, owner), due_on=due_day,
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
            f"{format_date(approval.effective_on)}.", field="consented_on")
    if consented_on > timezone.localdate():
        raise ApplicationError("The consent date cannot be in the future.", field="consented_on")
    if ConsentRecord.objects.filter(subject=subject, consent_version=consent_version).exists():
        raise ApplicationError("The subject already signed that version.",
                               field="consent_version")
