"""The medical monitor's queue and a trial's safety page."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.utils import timezone

from access.codenames import REVIEW_SAFETY
from safety.selectors import (
    OBLIGATION_STATES,
    SafetyToday,
    adverse_events_visible_to,
    obligation_queue_for,
    queue_case_rows,
    queue_obligation_rows,
    review_queue_for,
    reviews_safety_somewhere,
    serious_cases_by_soc,
    site_timeliness,
    trial_case_counts,
    trial_obligation_counts,
)
from sites.models import Site
from trials.models import Trial
from trials.selectors import trials_visible_to, trials_with_permission

PAGE_SIZE = 50
LATEST_CASES = 20
CASES_PAGE, OBLIGATIONS_PAGE = "cases_page", "obligations_page"
QUERY_PARAMETERS = frozenset({"trial", "site", "state", CASES_PAGE, OBLIGATIONS_PAGE})


class SiteChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Site) -> str:
        return f"{obj.trial.protocol_number} · site {obj.number}"


class QueueFilterForm(forms.Form):
    """The queue's filters. A value outside the choices (or a misspelt parameter) is an error,
    never a quietly unfiltered list."""

    trial = forms.ModelChoiceField(queryset=Trial.objects.none(), required=False,
                                   empty_label="All trials")
    site = SiteChoiceField(queryset=Site.objects.none(), required=False,
                           empty_label="All sites")
    state = forms.ChoiceField(choices=[(s, f"{s.title()} obligations")
                                       for s in OBLIGATION_STATES], required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        trials = trials_with_permission(user=user, codename=REVIEW_SAFETY)
        self.fields["trial"].queryset = trials
        self.fields["site"].queryset = (Site.objects.filter(trial__in=trials)
                                        .select_related("trial")
                                        .order_by("trial__protocol_number", "number"))
        for name, label in (("trial", "Trial"), ("site", "Site"), ("state", "Obligations")):
            self.fields[name].widget.attrs["aria-label"] = label

    def clean(self):
        data = super().clean()
        unknown = sorted(set(self.data) - QUERY_PARAMETERS)
        if unknown:
            raise ValidationError(f"Unknown filter: {', '.join(unknown)[:100]}.")
        trial, site = data.get("trial"), data.get("site")
        if trial and site and site.trial_id != trial.pk:
            self.add_error("site", "This site is not one of that trial's.")
        data["state"] = data.get("state") or "open"
        return data


def _pager(request, page: Page, parameter: str) -> dict:
    """A table's page with the links to its neighbours (the other filters kept)."""
    def url(number: int) -> str:
        query = request.GET.copy()
        query[parameter] = str(number)
        return f"?{query.urlencode()}"
    return {"page": page,
            "previous": url(page.previous_page_number()) if page.has_previous() else None,
            "next": url(page.next_page_number()) if page.has_next() else None}


def _filtered(user, data: dict, now):
    cases = review_queue_for(user=user)
    obligations = obligation_queue_for(user=user, state=data["state"], now=now)
    if data["trial"]:
        cases, obligations = (cases.filter(trial=data["trial"]),
                              obligations.filter(trial=data["trial"]))
    if data["site"]:
        cases, obligations = (cases.filter(site=data["site"]),
                              obligations.filter(adverse_event__site=data["site"]))
    return cases, obligations


@login_required
def queue(request):
    """Serious cases awaiting medical review and reporting obligations of the trials the user
    reviews, nearest clock first; for their medical monitor and administrators."""
    if not reviews_safety_somewhere(user=request.user):
        raise PermissionDenied
    form = QueueFilterForm(request.GET, user=request.user)
    if not form.is_valid():
        return render(request, "safety/queue.html", {"form": form}, status=400)
    now = timezone.now()
    cases, obligations = _filtered(request.user, form.cleaned_data, now)
    case_page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get(CASES_PAGE))
    obligation_page = Paginator(obligations, PAGE_SIZE).get_page(
        request.GET.get(OBLIGATIONS_PAGE))
    today = SafetyToday(now)
    return render(request, "safety/queue.html", {
        "form": form, "state": form.cleaned_data["state"],
        "case_pager": _pager(request, case_page, CASES_PAGE),
        "obligation_pager": _pager(request, obligation_page, OBLIGATIONS_PAGE),
        "case_rows": queue_case_rows(events=case_page, today=today),
        "obligation_rows": queue_obligation_rows(obligations=obligation_page, today=today),
    })


@login_required
def trial_safety(request, pk: int):
    """A trial's safety at a glance. CRO staff: cases, obligations by state, SAEs by SOC, site
    timeliness and the latest cases; a sponsor viewer: aggregate counts only, never a case."""
    trial = get_object_or_404(trials_visible_to(user=request.user), pk=pk)
    user = request.user
    obligations = trial_obligation_counts(user=user, trial=trial, now=timezone.now())
    context = {"trial": trial, "cases": trial_case_counts(user=user, trial=trial),
               "by_soc": serious_cases_by_soc(user=user, trial=trial),
               "on_time_rate": obligations["on_time_rate"],
               "aggregate_only": user.is_sponsor_user}
    if not user.is_sponsor_user:
        context.update(obligations=obligations, sites=site_timeliness(user=user, trial=trial),
                       latest=adverse_events_visible_to(user=user).filter(trial=trial)
                       .select_related("subject", "site", "term")[:LATEST_CASES])
    return render(request, "safety/trial_safety.html", context)


urlpatterns = [
    path("queue/", queue, name="queue"),
    path("trials/<int:pk>/", trial_safety, name="trial_safety"),
]
