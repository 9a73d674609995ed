"""The medical monitor's queue and a trial's safety page."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone

from access.codenames import REVIEW_SAFETY
from croportal.lists import exporting, first_rows, ordered_rows, paginate, selected_rows
from croportal.lists.views import export_response
from safety.lists import TRIAL_CASES
from safety.queue_lists import QUEUE_LISTS
from safety.selectors import (
    OBLIGATION_STATES,
    SafetyToday,
    queue_case_rows,
    queue_obligation_rows,
    reviews_safety_somewhere,
    serious_cases_by_soc,
    site_timeliness,
    trial_case_counts,
    trial_obligation_counts,
)
from sites.models import Site
from trials.models import Trial
from trials.selectors import trials_visible_to, trials_with_permission

LATEST_CASES = 20
CASES_PAGE, OBLIGATIONS_PAGE = "cases_page", "obligations_page"
QUERY_PARAMETERS = frozenset({"trial", "site", "state", CASES_PAGE, OBLIGATIONS_PAGE,
                              "cases_sort", "obligations_sort", "export", "list"})


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
        sites = (Site.objects.filter(trial__in=trials).select_related("trial")
                 .order_by("trial__protocol_number", "number"))
        self.fields["site"].queryset = sites
        self._offer_sites_of_the_chosen_trial(sites)
        self.fields["export"] = forms.ChoiceField(choices=[(f, f) for f in exporting.FORMATS],
                                                  required=False)
        self.fields["list"] = forms.ChoiceField(choices=[(n, n) for n in QUEUE_LISTS],
                                                required=False)
        for name, label in (("trial", "Trial"), ("site", "Site"), ("state", "Obligations")):
            self.fields[name].widget.attrs["aria-label"] = label

    def _offer_sites_of_the_chosen_trial(self, sites) -> None:
        """Any reviewed site is accepted, but the select offers the chosen trial's sites only
        (and the one asked for): a medical monitor of 20 trials has thousands of sites, which
        the page would otherwise send on every load."""
        field = self.fields["site"]
        trial, site = str(self.data.get("trial", "")), str(self.data.get("site", ""))
        shown = sites.none()
        if trial.isdigit() and len(trial) < 19:
            shown = sites.filter(trial_id=int(trial))
        elif site.isdigit() and len(site) < 19:
            shown = sites.filter(pk=int(site))
        else:
            field.help_text = "Choose a trial to pick one of its sites."
        field.widget.choices = [("", field.empty_label),
                                *((s.pk, field.label_from_instance(s)) for s in shown)]

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




def _queue_list(request, name: str) -> dict:
    """One of the page's two lists: its rows as the filters select them, in the order asked
    for under its own prefix (`cases_sort`, `obligations_page`...)."""
    spec, prefix = QUEUE_LISTS[name]
    _, rows = selected_rows(spec, user=request.user, params=request.GET, url_kwargs={})
    table = ordered_rows(spec, rows, sort=request.GET.get(f"{prefix}sort"))
    table.prefix = prefix
    query = request.GET.copy()
    for parameter in (f"{prefix}page", "export", "list"):
        query.pop(parameter, None)
    query["list"] = name
    return {"table": table, "spec": spec, "list_id": f"list-{spec.filename}",
            "export_query": query.urlencode(), "prefix": prefix}


def _export(request, page: dict, export: str):
    """The list's export; a background job reads the list's sort as the mechanism's `sort`."""
    params = request.GET.copy()
    params["sort"] = params.get(f"{page['prefix']}sort", "")
    request.GET = params
    return export_response(request, page["spec"], page["table"], export, url_kwargs={})


@login_required
def queue(request):
    """Serious cases awaiting medical review and reporting obligations of the trials the user
    reviews, nearest clock first; for their medical monitor and administrators. Two lists,
    each paged, sorted and exported on its own (`?list=obligations&export=csv`)."""
    if not reviews_safety_somewhere(user=request.user):
        raise PermissionDenied
    form = QueueFilterForm(request.GET, user=request.user)
    if not form.is_valid():
        return render(request, "safety/queue.html", {"form": form}, status=400)
    pages = {name: _queue_list(request, name) for name in QUEUE_LISTS}
    if form.cleaned_data["export"]:
        return _export(request, pages[form.cleaned_data["list"] or "cases"],
                       form.cleaned_data["export"])
    for page in pages.values():
        paginate(page["table"], request.GET.get(f"{page['prefix']}page"))
        if getattr(request, "htmx", None) and request.htmx.target == page["list_id"]:
            return render(request, "lists/_list.html", page)
    cases, obligations = pages["cases"]["table"], pages["obligations"]["table"]
    today = SafetyToday(timezone.now())
    return render(request, "safety/queue.html", {
        "form": form, "state": form.cleaned_data["state"], "cases": pages["cases"],
        "obligations": pages["obligations"],
        "case_rows": queue_case_rows(events=[r.record for r in cases.paginated_rows],
                                     today=today),
        "obligation_rows": queue_obligation_rows(
            obligations=[r.record for r in obligations.paginated_rows], today=today),
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
        # The newest cases only; the whole list is /safety/trials/<id>/cases/.
        latest = first_rows(TRIAL_CASES, user=user, url_kwargs={"pk": trial.pk},
                            all_url=reverse("safety:trial_cases", args=[trial.pk]),
                            noun="adverse events", count=LATEST_CASES)
        context.update(obligations=obligations, sites=site_timeliness(user=user, trial=trial),
                       latest_cases=latest, latest=list(latest["table"].data.data))
    return render(request, "safety/trial_safety.html", context)


urlpatterns = [
    path("queue/", queue, name="queue"),
    path("trials/<int:pk>/", trial_safety, name="trial_safety"),
]
