from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from croportal.exceptions import ApplicationError
from croportal.forms import form_error_from
from safety import services
from safety.forms import ReviewForm
from safety.selectors import (
    adverse_events_reviewable_by,
    adverse_events_visible_to,
    ctcae_terms_search,
)
from staffing.selectors import signatures_of


def _event_page(request, event, form, status=200):
    can_review = adverse_events_reviewable_by(user=request.user).filter(pk=event.pk).exists()
    return render(request, "safety/ae_detail.html", {
        "event": event, "signatures": signatures_of(record=event), "can_review": can_review,
        "form": form,
    }, status=status)


@login_required
def ae_detail(request, pk: int):
    event = get_object_or_404(
        adverse_events_visible_to(user=request.user).select_related("subject", "site", "trial",
                                                                     "term"), pk=pk)
    return _event_page(request, event, ReviewForm())


@login_required
@require_POST
def ae_review(request, pk: int):
    event = get_object_or_404(adverse_events_visible_to(user=request.user), pk=pk)
    if not adverse_events_reviewable_by(user=request.user).filter(pk=event.pk).exists():
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
    event.refresh_from_db()
    return _event_page(request, event, form, status=400)


@login_required
def ctcae_search(request):
    query = request.GET.get("q", "")
    terms = ctcae_terms_search(query=query)[:50] if query else []
    template = "safety/_ctcae_results.html" if request.htmx else "safety/ctcae_search.html"
    return render(request, template, {"terms": terms, "query": query})


urlpatterns = [
    path("adverse-events/<int:pk>/", ae_detail, name="ae_detail"),
    path("adverse-events/<int:pk>/review/", ae_review, name="ae_review"),
    path("ctcae/", ctcae_search, name="ctcae_search"),
]
