"""Safety lists: a trial's adverse-event cases and the reporting obligations the reader sees
(sort, filter, search, page, export: croportal.lists)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404
from django.urls import path

from croportal.lists import list_page
from safety.lists import OBLIGATIONS, TRIAL_CASES
from trials.selectors import trials_visible_to


@login_required
def trial_cases(request, pk: int):
    """Every case of the trial the reader sees (sponsor viewers: 403, as counts only)."""
    trial = get_object_or_404(trials_visible_to(user=request.user), pk=pk)
    return list_page(request, TRIAL_CASES, template="safety/trial_cases.html",
                     context={"trial": trial}, url_kwargs={"pk": pk})


@login_required
def obligation_list(request):
    """Every reporting obligation of the cases the reader sees, across trials."""
    return list_page(request, OBLIGATIONS, template="safety/obligation_list.html")


urlpatterns = [
    path("trials/<int:pk>/cases/", trial_cases, name="trial_cases"),
    path("obligations/", obligation_list, name="obligations"),
]
