from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render

from croportal.exceptions import ApplicationError
from croportal.forms import form_error_from
from sites.selectors import sites_visible_to, sites_with_counts
from trials import services
from trials.forms import TrialForm
from trials.selectors import trial_permissions_of, trials_visible_to, trials_with_counts


@login_required
def trial_list(request):
    trials = trials_with_counts(trials_visible_to(user=request.user))
    return render(request, "trials/trial_list.html", {"trials": trials})


@login_required
def trial_detail(request, pk: int):
    trial = get_object_or_404(trials_with_counts(trials_visible_to(user=request.user)), pk=pk)
    sites = list(sites_with_counts(sites_visible_to(user=request.user).filter(trial=trial)))
    perms = trial_permissions_of(user=request.user, trial=trial)
    chart = {
        "labels": [site.number for site in sites],
        "series": [
            {"label": "Enrolled", "data": [site.enrolled_count for site in sites]},
            {"label": "Target", "data": [site.target_enrollment for site in sites]},
        ],
    }
    return render(request, "trials/trial_detail.html", {
        "trial": trial, "sites": sites, "can_change": "change_trial" in perms,
        "can_manage_staff": "manage_staff" in perms,
        "enrollment_chart": chart,
    })


@login_required
def trial_edit(request, pk: int):
    trial = get_object_or_404(trials_visible_to(user=request.user), pk=pk)
    if "change_trial" not in trial_permissions_of(user=request.user, trial=trial):
        raise PermissionDenied
    form = TrialForm(request.POST or None, instance=trial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        reason = data.pop("change_reason")
        try:
            services.trial_update(trial=trial, by=request.user, reason=reason, **data)
        except ApplicationError as error:
            form_error_from(form, error)
        else:
            messages.success(request, "Trial updated.")
            return redirect("trials:detail", pk=trial.pk)
    return render(request, "trials/trial_form.html", {"form": form, "trial": trial})
