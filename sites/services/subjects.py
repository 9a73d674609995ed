"""Subjects (DOMAIN B §8): screening with consent, and the transitions of their status."""

import re
from datetime import date

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from croportal.audit import audited_save
from croportal.concurrency import lock_for_update
from croportal.exceptions import ApplicationError
from croportal.formats import format_date
from croportal.lifecycle import check_transition
from reminders.models import Deadline
from reminders.policies import Kind as DeadlineKind
from reminders.services import deadline_close
from sites.models import (
    ConsentRecord,
    Site,
    SiteEnrollment,
    SiteStatus,
    Subject,
    SubjectStatus,
)
from sites.selectors import ENROLLED_STATUSES
from sites.services.consent import ACTIVE_SUBJECT_STATUSES, _check_consent
from staffing.models import User
from trials.models import ConsentVersion


@transaction.atomic
def subject_create(*, site: Site, by: User, number: str, **fields) -> Subject:
    """Register a subject at a site under a pseudonymous number."""
    if Subject.objects.filter(trial_id=site.trial_id, number=number).exists():
        raise ApplicationError("This trial already has a subject with that number.",
                               field="number")
    subject = Subject(site=site, trial_id=site.trial_id, number=number, **fields)
    audited_save(subject, by=by, reason="Subject registered")
    site_enrollment_refresh(site_id=site.pk)
    return subject


def site_enrollment_refresh(*, site_id: int) -> None:
    """Count the site's subjects by status again (SiteEnrollment), under the site's lock: two
    subject changes at one site count one after the other, each seeing the other's."""
    list(Site.objects.select_for_update().filter(pk=site_id).values_list("pk", flat=True))
    counts = Subject.objects.filter(site_id=site_id).aggregate(
        screened_count=Count("pk"),
        screen_failed_count=Count("pk", filter=Q(status=SubjectStatus.SCREEN_FAILED)),
        enrolled_total=Count("pk", filter=Q(status__in=ENROLLED_STATUSES)),
        screening_count=Count("pk", filter=Q(status=SubjectStatus.SCREENING)),
        withdrawn_count=Count("pk", filter=Q(status=SubjectStatus.WITHDRAWN)),
    )
    SiteEnrollment.objects.update_or_create(site_id=site_id, defaults=counts)


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


def subject_transitions_from(*, subject: Subject) -> list[str]:
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
                     allowed=subject_transitions_from(subject=subject))
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
        raise ApplicationError(f"The date cannot be before {format_date(start)}.", field="on")
    if to == SubjectStatus.ENROLLED and subject.site.status != SiteStatus.ACTIVE:
        raise ApplicationError("Subjects are enrolled only at an active site.", field="status")
    subject.status = to
    setattr(subject, _DATE_OF[to], on)
    if to == SubjectStatus.WITHDRAWN:
        subject.withdrawal_reason = withdrawal_reason
    label = SubjectStatus(to).label.lower()
    audited_save(subject, by=by, reason=(reason or "").strip() or f"Subject {label}")
    site_enrollment_refresh(site_id=subject.site_id)
    if to not in ACTIVE_SUBJECT_STATUSES:
        for key in Deadline.objects.filter(
            kind=DeadlineKind.RECONSENT, object_id=subject.pk, state=Deadline.State.OPEN,
            content_type=ContentType.objects.get_for_model(Subject),
        ).values_list("key", flat=True):
            deadline_close(kind=DeadlineKind.RECONSENT, subject=subject, key=key,
                           state=Deadline.State.CANCELLED)
    return subject
