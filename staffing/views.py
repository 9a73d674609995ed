from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from access.checks import may_manage_staff
from croportal.exceptions import ApplicationError
from croportal.forms import form_error_from
from staffing import services
from staffing.forms import AssignmentEndForm, AssignmentStartForm, TrainingRecordForm
from staffing.selectors import (
    training_can_change,
    training_records_visible_to,
    training_rows,
    trials_seen_by,
)


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
    records = training_records_visible_to(user=request.user).select_related("user")
    ordered = records.order_by("user__last_name", "user_id", "kind", "-completed_on")
    rows = training_rows(records=ordered,
                         today=timezone.localdate())
    return render(request, "staffing/training.html", {
        "form": form, "may_add": may_add,
        "mine": [row for row in rows if row["record"].user_id == request.user.pk],
        "team": [row for row in rows if row["record"].user_id != request.user.pk],
    })


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
    assignments = trial.assignments.select_related("user", "site").order_by(
        "end_date", "role", "user__last_name", "pk")
    return render(request, "staffing/trial_staff.html", {
        "trial": trial, "start_form": start_form, "end_form": end_form, "today": today,
        "assignments": [(a, a.is_active_on(today)) for a in assignments],
    }, status=400 if request.method == "POST" and action not in ("start", "end") else 200)


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
