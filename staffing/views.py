from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from access.checks import may_manage_staff
from croportal.exceptions import ApplicationError
from croportal.forms import form_error_from
from croportal.lists import list_page
from reminders.policies import Kind
from reminders.services import preference_of
from staffing import services
from staffing.forms import AssignmentEndForm, AssignmentStartForm, ProfileForm, TrainingRecordForm
from staffing.lists import TRAINING, TRIAL_STAFF
from staffing.selectors import training_can_change, trials_seen_by


@login_required
def training(request):
    may_add = training_can_change(user=request.user, person=request.user)
    form = TrainingRecordForm(request.POST or None)
    if request.method == "POST":
        if not may_add:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.training_record_create(user=request.user, by=request.user,
                                                **form.cleaned_data)
            except ApplicationError as error:
                form_error_from(form, error)
            else:
                messages.success(request, "Training recorded.")
                return redirect("staffing:training")
    return list_page(request, TRAINING, template="staffing/training.html",
                     context={"form": form, "may_add": may_add})


@login_required
def trial_staff(request, pk: int):
    trial = get_object_or_404(trials_seen_by(user=request.user), pk=pk)
    if not may_manage_staff(user=request.user, trial=trial):
        raise PermissionDenied
    today = timezone.localdate()
    action = request.POST.get("action") if request.method == "POST" else None
    start_form = AssignmentStartForm(request.POST if action == "start" else None, trial=trial)
    end_form = AssignmentEndForm(request.POST if action == "end" else None, trial=trial,
                                 today=today)
    if request.method == "POST" and _staff_change(request, trial, start_form, end_form, action):
        return redirect("staffing:trial_staff", pk=trial.pk)
    status = 400 if request.method == "POST" and action not in ("start", "end") else 200
    response = list_page(request, TRIAL_STAFF, template="staffing/trial_staff.html", context={
        "trial": trial, "start_form": start_form, "end_form": end_form}, url_kwargs={"pk": pk})
    if status != 200:
        response.status_code = status
    return response


def _staff_change(request, trial, start_form, end_form, action) -> bool:
    """Start or end an assignment from the page's forms; True when it was done."""
    form = start_form if action == "start" else end_form
    if action not in ("start", "end") or not form.is_valid():
        return False
    data = dict(form.cleaned_data)
    data.pop("action")
    try:
        if action == "start":
            services.assignment_start(trial=trial, by=request.user, **data)
        else:
            services.assignment_end(assignment=data["assignment"], end_date=data["end_date"],
                                    by=request.user, reason=data["change_reason"])
    except ApplicationError as error:
        form_error_from(form, error)
        return False
    messages.success(request, "Assignment started." if action == "start" else "Assignment ended.")
    return True


@login_required
def profile(request):
    """The caller's own profile: name and time zone here, notification preferences linked."""
    user = request.user
    form = ProfileForm(request.POST or None, initial={
        "first_name": user.first_name, "last_name": user.last_name, "timezone": user.timezone})
    if request.method == "POST" and form.is_valid():
        try:
            services.user_profile_update(user=user, by=user, **form.cleaned_data)
        except ApplicationError as error:
            form_error_from(form, error)
        else:
            messages.success(request, "Profile saved.")
            return redirect("profile")
    preference = preference_of(user=user)
    return render(request, "staffing/profile.html", {
        "form": form, "preference": preference, "now": timezone.now(),
        "muted": [label for value, label in Kind.choices if value in preference.muted_kinds],
    })
