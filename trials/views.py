from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.forms import Form
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from access.checks import may_change_trial, may_create_trials
from croportal.exceptions import ApplicationError
from croportal.forms import form_error_from, form_status
from croportal.lists import list_page
from trials import services
from trials.forms import (
    MilestoneEditForm,
    TrialCreateForm,
    TrialForm,
)
from trials.lists import TRIALS
from trials.models import Milestone, Trial
from trials.selectors import (
    trials_visible_to,
    trials_with_counts,
)


@login_required
def trial_list(request):
    return list_page(request, TRIALS, template="trials/trial_list.html",
                     context={"can_import": may_create_trials(user=request.user)})


def run_form(request, form: Form, action: Callable[[dict], object], *, success: str,
             then: Callable[[object], HttpResponse]) -> HttpResponse | None:
    """POST with a valid form: call the service, report, redirect. None when the form (now
    carrying the service's refusal, if any) must be shown again."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        result = action(form.cleaned_data)
    except ApplicationError as error:
        form_error_from(form, error)
        return None
    messages.success(request, success)
    return then(result)




@login_required
def trial_edit(request, pk: int):
    trial = get_object_or_404(trials_visible_to(user=request.user), pk=pk)
    if not may_change_trial(user=request.user, trial=trial):
        raise PermissionDenied
    form = TrialForm(request.POST or None, instance=trial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        reason, revision = data.pop("change_reason"), data.pop("revision")
        try:
            services.trial_update(trial=trial, by=request.user, reason=reason,
                                  expected_revision=revision, **data)
        except ApplicationError as error:
            form_error_from(form, error)
        else:
            messages.success(request, "Trial updated.")
            return redirect("trials:detail", pk=trial.pk)
    return render(request, "trials/trial_form.html", {"form": form, "trial": trial},
                  status=form_status(form))


def changeable_trial(request, pk: int) -> Trial:
    """A trial the user sees (else 404) and may change (else 403)."""
    visible = trials_with_counts(queryset=trials_visible_to(user=request.user))
    trial = get_object_or_404(visible, pk=pk)
    if not may_change_trial(user=request.user, trial=trial):
        raise PermissionDenied
    return trial


def to_trial(trial: Trial) -> Callable[[object], HttpResponse]:
    return lambda _result: redirect("trials:detail", pk=trial.pk)


@login_required
def trial_create(request):
    if not may_create_trials(user=request.user):
        raise PermissionDenied
    form = TrialCreateForm(request.POST or None)
    done = run_form(
        request, form, lambda data: services.trial_create(by=request.user, **data),
        success="Trial created; you are its CRM.",
        then=lambda trial: redirect("trials:detail", pk=trial.pk),
    )
    return done or render(request, "trials/trial_form.html", {"form": form})


@login_required
def milestone_edit(request, pk: int):
    milestone = get_object_or_404(
        Milestone.objects.select_related("trial")
        .filter(trial__in=trials_visible_to(user=request.user)), pk=pk)
    if not may_change_trial(user=request.user, trial=milestone.trial_id):
        raise PermissionDenied
    form = MilestoneEditForm(request.POST or None, instance=milestone)

    def update(data: dict) -> Milestone:
        reason, revision = data.pop("change_reason"), data.pop("revision")
        return services.milestone_update(milestone=milestone, by=request.user, reason=reason,
                                         expected_revision=revision, **data)

    done = run_form(request, form, update, success="Milestone updated.",
                    then=to_trial(milestone.trial))
    return done or render(request, "trials/milestone_form.html",
                          {"form": form, "milestone": milestone, "trial": milestone.trial},
                          status=form_status(form))


