"""Essential documents: filing, the CRM's second-person review, superseding, expiry deadlines."""


from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from access.checks import may_change_trial
from croportal.audit import audited_save
from croportal.concurrency import apply_fields, lock_for_update
from croportal.exceptions import ApplicationError
from croportal.timezones import start_of_day
from reminders.models import Deadline
from reminders.policies import Kind as DeadlineKind
from reminders.services import deadline_close, deadline_upsert
from sites.models import (
    DocumentKind,
    DocumentStatus,
    EssentialDocument,
    Site,
)
from sites.services.document_files import checked_file
from staffing.models import User
from staffing.selectors import site_cra, trial_crm

DOCUMENT_FIELDS = ("kind", "title", "version", "effective_on", "expires_on", "status")


def _document_deadline_sync(document: EssentialDocument) -> None:
    """An approved document with an expiry date is a deadline of the site's CRA (escalating
    to the trial's CRM); superseded, rejected or undated documents have none."""
    site = document.site
    if document.status != DocumentStatus.APPROVED or document.expires_on is None:
        renewed = document.status == DocumentStatus.SUPERSEDED
        deadline_close(kind=DeadlineKind.DOCUMENT_EXPIRY, subject=document,
                       state=Deadline.State.DONE if renewed else Deadline.State.CANCELLED)
        return
    crm = trial_crm(trial_id=site.trial_id)
    owner = site_cra(site=site) or crm
    if owner is None:
        return
    deadline_upsert(
        kind=DeadlineKind.DOCUMENT_EXPIRY, subject=document, owner=owner,
        due_at=start_of_day(document.expires_on, owner), due_on=document.expires_on,
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
FILE_FIELDS = ["file", "file_name", "file_size", "file_type", "file_sha256"]


def _attach_file(document: EssentialDocument, upload: UploadedFile) -> None:
    """Check the upload and keep it in the documents storage, under a path no other version
    has; its name, size, type and SHA-256 go into the document (and so into its audit trail)."""
    if document.file:
        raise ApplicationError(
            "This document already holds its file. A new version is filed as a new document, "
            "which keeps this one and its file as they are.", field="file")
    checked = checked_file(upload=upload)
    document.file.save(checked.name, upload, save=False)
    document.file_name, document.file_size = checked.name, checked.size
    document.file_type, document.file_sha256 = checked.content_type, checked.sha256


def _saved_with_file(document: EssentialDocument, upload: UploadedFile | None, save) -> None:
    """Store the file, then save the row; a refused save leaves no file behind."""
    if upload is None:
        save()
        return
    _attach_file(document, upload)
    try:
        save()
    except BaseException:
        document.file.storage.delete(document.file.name)
        raise


def _check_reviewer(document: EssentialDocument, by: User) -> None:
    """Approving or rejecting a document is the trial's CRM's review, and never the filer's."""
    trial = document.site.trial
    if not may_change_trial(user=by, trial=trial):
        raise ApplicationError("Only the trial's CRM approves or rejects essential documents.",
                               field="status", status=403)
    if document.filed_by_id is not None and document.filed_by_id == by.pk:
        raise ApplicationError("Whoever filed a document cannot approve or reject it: a second "
                               "person reviews it.", field="status", status=403)


@transaction.atomic
def document_create(*, site: Site, by: User, file: UploadedFile | None = None,
                    **fields) -> EssentialDocument:
    """File a document at a site (requested or received), with its file when there is one;
    the CRM reviews it afterwards."""
    document = EssentialDocument(site=site, filed_by=by)
    apply_fields(document, fields, editable=DOCUMENT_FIELDS)
    document.title = document.title or ""
    document.version = document.version or ""
    if document.status in REVIEW_DECISIONS:
        raise ApplicationError("A document is filed as requested or received; another person "
                               "(the trial's CRM) then approves or rejects it.", field="status")
    _check_document(document)
    reason = f"Document filed with {file.name}" if file is not None else "Document filed"
    _saved_with_file(document, file, lambda: audited_save(document, by=by, reason=reason))
    _document_deadline_sync(document)
    return document


@transaction.atomic
def document_update(*, document: EssentialDocument, by: User, reason: str,
                    expected_revision: int | None = None, file: UploadedFile | None = None,
                    **fields) -> EssentialDocument:
    """Edit a filed document; setting its status to approved or rejected is the review (the
    CRM's, not the filer's), with who and when recorded. A document filed without its file
    (requested) takes it here once; one that holds a file keeps it."""
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
    if file is not None:
        if document.file:
            _attach_file(document, file)  # refuses: the file stays as it is
        changed += FILE_FIELDS
    if not changed:
        return document
    _saved_with_file(document, file,
                     lambda: audited_save(document, by=by, reason=reason, update_fields=changed))
    _supersede_older(document, by)
    _document_deadline_sync(document)
    return document
