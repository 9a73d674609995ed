from collections.abc import Callable
from datetime import date

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from access.checks import may_change_trial, may_report_adverse_events
from croportal.forms import form_status
from sites import services
from sites.downloads import document_file_response
from sites.forms import (
    DocumentEditForm,
    DocumentFileForm,
    ReconsentForm,
    SiteConsentVersionForm,
    SiteCreateForm,
    SiteForm,
    SiteTransitionForm,
    SubjectScreenForm,
    SubjectTransitionForm,
)
from sites.models import (
    ConsentRecord,
    EssentialDocument,
    Site,
    SiteConsentVersion,
    SiteStatus,
    Subject,
)
from sites.selectors import site_can_change, sites_visible_to, sites_with_counts
from trials.models import ConsentVersion
from trials.selectors import trials_visible_to
from trials.views import run_form

DOCUMENT_IDS, SITE_ICF_IDS, SCREEN_IDS = "id_document_%s", "id_site_icf_%s", "id_screen_%s"

FIRST_SUBJECTS = 10  # on the site page; all of them at /sites/<id>/subjects/

def _subject_ids(subject: Subject, form: str) -> str:
    return f"id_subject{subject.pk}_{form}_%s"


def _may_transition(user, site: Site) -> bool:
    """Moving a site along its lifecycle (activation above all) is the CRM's decision."""
    return may_change_trial(user=user, trial=site.trial)


def _documents(site: Site, today: date) -> list[EssentialDocument]:
    documents = list(site.documents.all())
    for document in documents:
        document.current = document.is_current(today)
        document.expired = document.expires_on is not None and document.expires_on <= today
    return documents


def _versions(approvals: list[SiteConsentVersion], today: date) -> list[tuple[int, str]]:
    """The ICF versions in effect at the site today (newest first), as form choices."""
    effective = sorted((a for a in approvals if a.effective_on <= today),
                       key=lambda a: (a.effective_on, a.pk), reverse=True)
    return [(a.consent_version_id, f"ICF {a.consent_version.version}") for a in effective]


def _shown_subjects(site: Site, find: str, bound: dict):
    """The first subjects by number, those whose number contains `find`, or the one whose
    form came back with errors: the page stays light however many subjects the site has."""
    rows = site.subjects.order_by("number")
    with_errors = [key[1] for key in bound if isinstance(key, tuple)]
    if with_errors:
        return rows.filter(pk__in=with_errors)
    if find:
        rows = rows.filter(number__icontains=find[:30])
    return rows[:FIRST_SUBJECTS]


def _subjects(site: Site, versions: list, today: date, can_change: bool, bound: dict,
              find: str = "") -> list:
    """The site's subjects (with the ICF versions each signed, in one more query), each with
    its own transition and re-consent forms; choices are computed here, so a long list costs
    no query per row."""
    current = versions[0][0] if versions else None
    subjects = list(_shown_subjects(site, find, bound).prefetch_related(
        Prefetch("consents", queryset=ConsentRecord.objects.select_related("consent_version"))))
    for subject in subjects:
        signed = {record.consent_version_id: record for record in subject.consents.all()}
        latest = max(signed.values(), key=lambda r: (r.consented_on, r.pk), default=None)
        subject.icf_signed = latest.consent_version.version if latest else ""
        active = subject.status in services.ACTIVE_SUBJECT_STATUSES
        subject.reconsent_due = active and current is not None and current not in signed
        if can_change:
            _subject_forms(subject, [v for v in versions if v[0] not in signed], today, bound)
    return subjects


def _subject_forms(subject: Subject, unsigned: list, today: date, bound: dict) -> None:
    allowed = services.subject_transitions_from(subject=subject)
    subject.transition_form = bound.get(("transition", subject.pk)) or (
        SubjectTransitionForm(allowed=allowed, initial={"on": today},
                              auto_id=_subject_ids(subject, "status")) if allowed else None)
    subject.reconsent_form = bound.get(("reconsent", subject.pk)) or (
        ReconsentForm(versions=unsigned, initial={"consented_on": today},
                      auto_id=_subject_ids(subject, "consent"))
        if unsigned and subject.status in services.ACTIVE_SUBJECT_STATUSES else None)


def _site_forms(site: Site, approvals: list, versions: list, bound: dict) -> dict:
    unrecorded = [(cv.pk, f"ICF {cv.version}") for cv in ConsentVersion.objects.filter(
        trial_id=site.trial_id).exclude(pk__in=[a.consent_version_id for a in approvals])]
    forms = {
        "document_form": DocumentFileForm(auto_id=DOCUMENT_IDS),
        "site_icf_form": SiteConsentVersionForm(versions=unrecorded, auto_id=SITE_ICF_IDS)
        if unrecorded else None,
        "screen_form": SubjectScreenForm(versions=versions, auto_id=SCREEN_IDS)
        if versions and site.status == SiteStatus.ACTIVE else None,
    }
    return {**forms, **{k: v for k, v in bound.items() if isinstance(k, str)}}


def _transition_forms(site: Site, checklist, bound: dict) -> dict:
    """The lifecycle form without "active" (which has its own button, shown only once the
    checklist is complete)."""
    allowed = services.site_transitions_from(site=site)
    others = [s for s in allowed if s != SiteStatus.ACTIVE]
    return {
        "transition_form": bound.get("transition_form")
        or (SiteTransitionForm(allowed=others, instance=site) if others else None),
        "can_activate": SiteStatus.ACTIVE in allowed and checklist.complete,
        "activation_pending": SiteStatus.ACTIVE in allowed and not checklist.complete,
    }


def _site_page(request, site: Site, bound: dict | None = None) -> HttpResponse:
    """The site page: checklist, lifecycle, documents, ICF versions and subjects; `bound`
    holds a submitted form with its errors, by name (or by (form, subject id))."""
    bound = bound or {}
    today = timezone.localdate()
    can_change = site_can_change(user=request.user, site=site)
    can_transition = _may_transition(request.user, site)
    documents = _documents(site, today)
    checklist = services.site_checklist(site=site, documents=documents, today=today)
    approvals = list(site.consent_versions.select_related("consent_version"))
    versions = _versions(approvals, today)
    context = {
        "site": site, "today": today, "can_change": can_change,
        "can_transition": can_transition, "checklist": checklist, "documents": documents,
        "approvals": approvals, "current_icf": versions[0][1] if versions else None,
        "subjects": _subjects(site, versions, today, can_change, bound,
                              find=request.GET.get("subject", "").strip()),
        "subject_find": request.GET.get("subject", "").strip()[:30],
        "subjects_total": site.subjects.count(),
        "can_report": may_report_adverse_events(user=request.user, site=site),
    }
    if can_change:
        context.update(_site_forms(site, approvals, versions, bound))
    if can_transition:
        context.update(_transition_forms(site, checklist, bound))
    return render(request, "sites/site_detail.html", context,
                  status=form_status(*[f for f in bound.values() if hasattr(f, "errors")]))


def _visible_site(request, pk: int) -> Site:
    return get_object_or_404(sites_with_counts(queryset=sites_visible_to(user=request.user)), pk=pk)


def _changeable_site(request, pk: int) -> Site:
    """A site the user sees (else 404) and may change (else 403)."""
    site = _visible_site(request, pk)
    if not site_can_change(user=request.user, site=site):
        raise PermissionDenied
    return site


def _to_site(site: Site) -> Callable[[object], HttpResponse]:
    return lambda _result: redirect("sites:detail", pk=site.pk)


@login_required
def site_detail(request, pk: int):
    return _site_page(request, _visible_site(request, pk))


@login_required
def site_edit(request, pk: int):
    site = _changeable_site(request, pk)
    form = SiteForm(request.POST or None, instance=site)

    def update(data: dict) -> Site:
        reason, revision = data.pop("change_reason"), data.pop("revision")
        return services.site_update(site=site, by=request.user, reason=reason,
                                    expected_revision=revision, **data)

    done = run_form(request, form, update, success="Site updated.", then=_to_site(site))
    return done or render(request, "sites/site_form.html", {"form": form, "site": site},
                          status=form_status(form))


@login_required
def site_create(request, pk: int):
    """Add a site to a trial (the trial's CRM): trials/<pk>/sites/new/."""
    trial = get_object_or_404(trials_visible_to(user=request.user), pk=pk)
    if not may_change_trial(user=request.user, trial=trial):
        raise PermissionDenied
    form = SiteCreateForm(request.POST or None)
    done = run_form(
        request, form, lambda data: services.site_create(trial=trial, by=request.user, **data),
        success="Site added.", then=lambda site: redirect("sites:detail", pk=site.pk),
    )
    return done or render(request, "sites/site_form.html", {"form": form, "trial": trial})


@login_required
@require_POST
def site_transition(request, pk: int):
    site = _visible_site(request, pk)
    if not _may_transition(request.user, site):
        raise PermissionDenied
    form = SiteTransitionForm(request.POST, allowed=services.site_transitions_from(site=site))
    done = run_form(
        request, form,
        lambda data: services.site_transition(site=site, to=data["status"], by=request.user,
                                              reason=data["change_reason"],
                                              expected_revision=data["revision"]),
        success="Site status changed.", then=_to_site(site),
    )
    return done or _site_page(request, site, {"transition_form": form})


@login_required
@require_POST
def document_create(request, pk: int):
    site = _changeable_site(request, pk)
    form = DocumentFileForm(request.POST, request.FILES, auto_id=DOCUMENT_IDS)
    done = run_form(
        request, form, lambda data: services.document_create(site=site, by=request.user, **data),
        success="Document filed.", then=_to_site(site),
    )
    return done or _site_page(request, site, {"document_form": form})


@login_required
def document_edit(request, pk: int):
    document = get_object_or_404(
        EssentialDocument.objects.select_related("site__trial")
        .filter(site__in=sites_visible_to(user=request.user)), pk=pk)
    if not site_can_change(user=request.user, site=document.site):
        raise PermissionDenied
    form = DocumentEditForm(request.POST or None, request.FILES or None, instance=document)

    def update(data: dict) -> EssentialDocument:
        reason, revision = data.pop("change_reason"), data.pop("revision")
        return services.document_update(document=document, by=request.user, reason=reason,
                                        expected_revision=revision, **data)

    done = run_form(request, form, update, success="Document updated.",
                    then=_to_site(document.site))
    return done or render(request, "sites/document_form.html",
                          {"form": form, "document": document, "site": document.site},
                          status=form_status(form))


def _consent_version_of(site: Site, pk: int) -> ConsentVersion:
    """A posted ICF version id, from the site's own trial only."""
    return get_object_or_404(ConsentVersion, pk=pk, trial_id=site.trial_id)


@login_required
@require_POST
def site_consent_version_add(request, pk: int):
    site = _changeable_site(request, pk)
    choices = list(ConsentVersion.objects.filter(trial_id=site.trial_id)
                   .values_list("pk", "version"))
    form = SiteConsentVersionForm(request.POST, versions=choices, auto_id=SITE_ICF_IDS)

    def add(data: dict) -> SiteConsentVersion:
        version = _consent_version_of(site, data.pop("consent_version"))
        return services.site_consent_version_add(site=site, consent_version=version,
                                                 by=request.user, **data)

    done = run_form(request, form, add, success="ICF version recorded at the site.",
                    then=_to_site(site))
    return done or _site_page(request, site, {"site_icf_form": form})


@login_required
@require_POST
def subject_screen(request, pk: int):
    site = _changeable_site(request, pk)
    versions = _versions(list(site.consent_versions.select_related("consent_version")),
                         timezone.localdate())
    form = SubjectScreenForm(request.POST, versions=versions, auto_id=SCREEN_IDS)

    def screen(data: dict) -> Subject:
        version = _consent_version_of(site, data.pop("consent_version"))
        return services.subject_screen(site=site, consent_version=version, by=request.user,
                                       **data)

    done = run_form(request, form, screen, success="Subject in screening.",
                    then=_to_site(site))
    return done or _site_page(request, site, {"screen_form": form})


def _changeable_subject(request, pk: int) -> Subject:
    subject = get_object_or_404(Subject.objects.filter(
        site__in=sites_visible_to(user=request.user)), pk=pk)
    if not site_can_change(user=request.user, site=subject.site):
        raise PermissionDenied
    return subject


@login_required
@require_POST
def subject_transition(request, pk: int):
    subject = _changeable_subject(request, pk)
    allowed = services.subject_transitions_from(subject=subject)
    form = SubjectTransitionForm(request.POST, allowed=allowed,
                                 auto_id=_subject_ids(subject, "status"))
    done = run_form(
        request, form,
        lambda data: services.subject_transition(subject=subject, by=request.user, **data),
        success=f"Subject {subject.number} updated.", then=_to_site(subject.site),
    )
    return done or _site_page(request, _visible_site(request, subject.site_id),
                              {("transition", subject.pk): form})


@login_required
@require_POST
def subject_consent(request, pk: int):
    """Record a subject's consent to a (newer) ICF version: re-consent."""
    subject = _changeable_subject(request, pk)
    site = _visible_site(request, subject.site_id)
    versions = _versions(list(site.consent_versions.select_related("consent_version")),
                         timezone.localdate())
    form = ReconsentForm(request.POST, versions=versions,
                         auto_id=_subject_ids(subject, "consent"))
    done = run_form(
        request, form,
        lambda data: services.consent_record(
            subject=subject, by=request.user, consented_on=data["consented_on"],
            consent_version=_consent_version_of(site, data["consent_version"])),
        success=f"Consent of subject {subject.number} recorded.", then=_to_site(site),
    )
    return done or _site_page(request, site, {("reconsent", subject.pk): form})


@login_required
def document_file(request, pk: int):
    """Download a document's file: 404 unless the reader may read its site."""
    document = get_object_or_404(
        EssentialDocument.objects.filter(site__in=sites_visible_to(user=request.user)), pk=pk)
    return document_file_response(document)
