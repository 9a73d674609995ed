"""A case's pages: entering an adverse event, the AE page (the case, its timeline, every
reporting obligation and the medical review), follow-ups, submitting a report, and the CTCAE
search that codes the event."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from access.checks import may_report_adverse_events, may_review_safety
from croportal.exceptions import ApplicationError
from croportal.forms import form_error_from
from safety import rules, services
from safety.forms import CaseForm, FollowUpForm, ReviewForm, SubmitForm
from safety.models import ObligationStatus
from safety.selectors import (
    adverse_events_visible_to,
    case_obligations_of,
    case_versions_of,
    ctcae_terms_search,
    obligations_visible_to,
)
from sites.selectors import subjects_visible_to
from staffing.selectors import signatures_of

FOLLOW_UP_PREFIX = "follow_up"


def _case_of(user, pk: int):
    return get_object_or_404(
        adverse_events_visible_to(user=user).select_related("subject", "site", "trial", "term"),
        pk=pk)


def _follow_up_form(event, user, data=None) -> FollowUpForm:
    return FollowUpForm(data, event=event, zone=event.trial.safety_timezone,
                        prefix=FOLLOW_UP_PREFIX,
                        sponsor_assessment=may_review_safety(user=user, trial=event.trial_id))


def _submit_form(obligation, data=None) -> SubmitForm:
    return SubmitForm(data, zone=obligation.trial.safety_timezone,
                      auto_id=f"id_obligation_{obligation.pk}_%s")


def _value(value) -> str:
    """A value of a version's changes, as read on the timeline."""
    if isinstance(value, dict):
        return value.get("term") or value.get("meddra_code") or "—"
    if isinstance(value, list):
        return ", ".join(str(v).replace("_", " ") for v in value) or "none"
    return "—" if value in (None, "") else str(value).replace("_", " ")


def _timeline(event) -> list[dict]:
    return [{"version": version,
             "changes": [(name.replace("_", " "), _value(old), _value(new))
                         for name, (old, new) in version.changes.items()]}
            for version in case_versions_of(event=event)]


def _obligation_rows(event, *, today, can_submit: bool, submitting=None) -> list[dict]:
    """Each obligation with its time left in calendar days of the trial's zone (DOMAIN A2)."""
    rows = []
    for obligation in case_obligations_of(event=event):
        row = {"obligation": obligation, "days_left": None, "late": False, "form": None}
        if obligation.status == ObligationStatus.OPEN:
            days_left = (obligation.due_on - today).days
            row.update(days_left=days_left, overdue_by=-days_left, late=days_left < 0)
            if can_submit:
                row["form"] = (submitting[1] if submitting and submitting[0] == obligation.pk
                               else _submit_form(obligation))
        rows.append(row)
    return rows


def _event_page(request, event, *, form=None, follow_up_form=None, submitting=None,
                status=200):
    user = request.user
    can_review = may_review_safety(user=user, trial=event.trial_id)
    can_follow_up = may_report_adverse_events(user=user, site=event.site)
    if can_follow_up and follow_up_form is None:
        follow_up_form = _follow_up_form(event, user)
    # Read once per page, never per row: the obligations' own due dates are stored.
    today = rules.day_zero(timezone.now(), zone=event.trial.safety_timezone)
    return render(request, "safety/ae_detail.html", {
        "event": event, "zone": event.trial.safety_timezone,
        "review_late": bool(event.review_due_on and event.review_due_on < today),
        "signatures": signatures_of(record=event), "timeline": _timeline(event),
        "obligations": _obligation_rows(event, today=today, can_submit=can_review,
                                        submitting=submitting),
        "can_review": can_review, "form": form or ReviewForm(),
        "can_follow_up": can_follow_up, "follow_up_form": follow_up_form,
    }, status=status)


@login_required
def ae_detail(request, pk: int):
    return _event_page(request, _case_of(request.user, pk))


@login_required
@require_POST
def ae_review(request, pk: int):
    event = get_object_or_404(adverse_events_visible_to(user=request.user), pk=pk)
    if not may_review_safety(user=request.user, trial=event.trial_id):
        raise PermissionDenied
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            services.adverse_event_review(event=event, by=request.user, **form.cleaned_data)
        except ApplicationError as error:
            form_error_from(form, error)
        else:
            messages.success(request, "Medical review signed.")
            return redirect("safety:ae_detail", pk=event.pk)
    return _event_page(request, _case_of(request.user, pk), form=form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def ae_create(request, pk: int):
    """Entering an adverse event of a subject: the site's CRA or the trial's medical monitor."""
    subject = get_object_or_404(
        subjects_visible_to(user=request.user).select_related("site__trial"), pk=pk)
    if not may_report_adverse_events(user=request.user, site=subject.site):
        raise PermissionDenied
    trial = subject.site.trial
    form = CaseForm(request.POST or None, zone=trial.safety_timezone,
                    sponsor_assessment=may_review_safety(user=request.user, trial=trial))
    if request.method == "POST" and form.is_valid():
        try:
            event = services.adverse_event_create(subject=subject, by=request.user,
                                                  **form.case_fields())
        except ApplicationError as error:
            form_error_from(form, error)
        else:
            messages.success(request, "Adverse event recorded.")
            return redirect("safety:ae_detail", pk=event.pk)
    return render(request, "safety/ae_form.html", {
        "subject": subject, "trial": trial, "form": form, "zone": form.zone,
    }, status=400 if request.method == "POST" else 200)


@login_required
@require_POST
def ae_follow_up(request, pk: int):
    """New information about a case: the site's CRA or the trial's medical monitor."""
    event = _case_of(request.user, pk)
    if not may_report_adverse_events(user=request.user, site=event.site):
        raise PermissionDenied
    form = _follow_up_form(event, request.user, request.POST)
    if form.is_valid():
        try:
            services.adverse_event_follow_up(event=event, by=request.user, **form.follow_up())
        except ApplicationError as error:
            form_error_from(form, error)
        else:
            messages.success(request, "Follow-up recorded.")
            return redirect("safety:ae_detail", pk=event.pk)
    stale = getattr(form, "stale", False)  # the case changed since the form was opened
    return _event_page(request, _case_of(request.user, pk), follow_up_form=form,
                       status=409 if stale else 400)


@login_required
@require_POST
def obligation_submit(request, pk: int):
    """Recording a report as sent: the trial's medical monitor."""
    obligation = get_object_or_404(
        obligations_visible_to(user=request.user).select_related("trial"), pk=pk)
    if not may_review_safety(user=request.user, trial=obligation.trial_id):
        raise PermissionDenied
    form = _submit_form(obligation, request.POST)
    if form.is_valid():
        try:
            services.obligation_submit(obligation=obligation, by=request.user,
                                       **form.cleaned_data)
        except ApplicationError as error:
            form_error_from(form, error)
        else:
            messages.success(request, "Submission recorded.")
            return redirect("safety:ae_detail", pk=obligation.adverse_event_id)
    event = _case_of(request.user, obligation.adverse_event_id)
    return _event_page(request, event, submitting=(obligation.pk, form), status=400)


@login_required
def ctcae_search(request):
    query = request.GET.get("q", "")
    if request.htmx and request.GET.get("pick"):  # the entry form's picker
        terms = ctcae_terms_search(query=query)[:20] if query.strip() else []
        return render(request, "safety/_ctcae_pick.html", {"terms": terms, "query": query})
    terms = ctcae_terms_search(query=query)[:50] if query else []
    template = "safety/_ctcae_results.html" if request.htmx else "safety/ctcae_search.html"
    return render(request, template, {"terms": terms, "query": query})


urlpatterns = [
    path("subjects/<int:pk>/adverse-events/new/", ae_create, name="ae_create"),
    path("adverse-events/<int:pk>/", ae_detail, name="ae_detail"),
    path("adverse-events/<int:pk>/review/", ae_review, name="ae_review"),
    path("adverse-events/<int:pk>/follow-ups/", ae_follow_up, name="ae_follow_up"),
    path("obligations/<int:pk>/submit/", obligation_submit, name="obligation_submit"),
    path("ctcae/", ctcae_search, name="ctcae_search"),
]
