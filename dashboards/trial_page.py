"""The trial page: the trial with its milestones, enrollment against plan, sites, amendments and
ICF versions. It composes trials and sites (and their enrollment), so it lives on the read side;
its forms post to the views below, which re-show the page with the form's errors."""

from datetime import date

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from access.checks import codenames_on
from access.codenames import CHANGE_TRIAL, MANAGE_STAFF
from croportal.forms import form_status
from croportal.lists import list_page
from dashboards.enrollment import Enrollment, enrollment_of
from dashboards.lists import TRIAL_SITES
from safety.selectors import trial_safety_summary
from sites.selectors import sites_visible_to
from trials import services
from trials.forms import AmendmentForm, ConsentVersionForm, MilestoneForm, TrialTransitionForm
from trials.models import Milestone, Trial
from trials.selectors import trials_visible_to, trials_with_counts
from trials.views import changeable_trial, run_form, to_trial

FIRST_SITES = 10  # rows of the site table on the trial page; the rest at /trials/<id>/sites/

MILESTONE_IDS, AMENDMENT_IDS, ICF_IDS = "id_milestone_%s", "id_amendment_%s", "id_icf_%s"


def _percent(part: float | None) -> float | None:
    return None if part is None else round(100 * part, 1)



def _enrollment_summary(enrollment: Enrollment) -> dict:
    """Enrolled against target and plan, screen failures and the forecast, ready to print."""
    fc, planned = enrollment.forecast, enrollment.planned_today
    summary = {
        "enrolled": enrollment.enrolled, "target": enrollment.target,
        "percent": enrollment.percent_of_target, "screened": enrollment.screened,
        "planned_today": None if planned is None else round(planned),
        "versus_plan": None if planned is None else round(enrollment.enrolled - planned),
        "behind_by": None if planned is None else max(0, round(planned - enrollment.enrolled)),
        "screen_failure_pct": _percent(enrollment.screen_failure_rate),
        "fpi": enrollment.fpi, "lpi": enrollment.lpi, "forecast": None,
        "forecast_note": enrollment.forecast_method_note,
    }
    if fc is not None and fc.method != "done":
        summary["forecast"] = {
            "median": enrollment.forecast_date(fc.median_days),
            "low": enrollment.forecast_date(fc.low_days),
            "high": enrollment.forecast_date(fc.high_days),
            "p_within_planned": _percent(fc.p_within_planned),
        }
    return summary



def _screen_failure_pct(failed: int, enrolled: int) -> float | None:
    """Failures among subjects whose screening has ended (failed or enrolled): subjects still
    in screening are not counted, as in Enrollment.screen_failure_rate."""
    decided = failed + enrolled
    return _percent(failed / decided) if decided else None



def _site_rows(enrollment: Enrollment) -> list:
    for site in enrollment.sites:
        site.screen_failure_pct = _screen_failure_pct(site.screen_failed_count,
                                                      site.enrolled_total)
        site.planned_today_rounded = (None if site.planned_today is None
                                      else round(site.planned_today))
    return enrollment.sites



def _country_rows(enrollment: Enrollment) -> list[dict]:
    return [{**row, "screen_failure_pct": _screen_failure_pct(row["screen_failed"],
                                                              row["enrolled"])}
            for row in enrollment.countries]



def _milestone_rows(milestones: list[Milestone], today: date) -> list[dict]:
    return [{
        "milestone": m, "slippage": m.slippage_days,
        "late": (m.slippage_days or 0) > 0,
        "overdue": m.actual_date is None and m.planned_date is not None and m.planned_date < today,
    } for m in milestones]



def _milestone_chart(milestones: list[Milestone], today: date) -> dict:
    """Baseline, planned and actual date of each milestone, for the timeline chart."""
    def points(attr: str) -> list[dict]:
        return [{"x": getattr(m, attr).isoformat(), "y": m.label}
                for m in milestones if getattr(m, attr)]
    return {"labels": [m.label for m in milestones], "baseline": points("baseline_date"),
            "planned": points("planned_date"), "actual": points("actual_date"),
            "today": today.isoformat()}



def _trial_forms(trial: Trial, bound: dict) -> dict:
    """The trial page's forms (only for those who may change the trial); a bound one (with
    errors) replaces its blank twin."""
    allowed = services.trial_transitions_from(trial=trial)
    forms = {
        "transition_form": (TrialTransitionForm(allowed=allowed, instance=trial)
                            if allowed else None),
        "milestone_form": MilestoneForm(auto_id=MILESTONE_IDS),
        "amendment_form": AmendmentForm(auto_id=AMENDMENT_IDS),
        "consent_version_form": ConsentVersionForm(auto_id=ICF_IDS),
    }
    return {**forms, **bound}



def _trial_page(request, trial: Trial, **bound) -> HttpResponse:
    """The trial page: status, milestones, enrollment against plan, sites, amendments, ICFs."""
    today = timezone.localdate()
    perms = codenames_on(user=request.user, trial=trial)
    enrollment = enrollment_of(trial=trial, sites=sites_visible_to(user=request.user), today=today)
    milestones = list(trial.milestones.all())
    context = {
        "trial": trial, "can_change": CHANGE_TRIAL in perms,
        "can_manage_staff": MANAGE_STAFF in perms, "today": today,
        "summary": _enrollment_summary(enrollment),
        # The first rows only (the full list is /trials/<id>/sites/): a light page however
        # many sites the trial has.
        "sites": _site_rows(enrollment)[:FIRST_SITES], "sites_total": len(enrollment.sites),
        "countries": _country_rows(enrollment), "enrollment_chart": enrollment.chart(),
        "milestones": _milestone_rows(milestones, today),
        "milestone_chart": _milestone_chart(milestones, today),
        "amendments": list(trial.amendments.all()),
        "consent_versions": list(trial.consent_versions.all()),
        "safety": trial_safety_summary(user=request.user, trial=trial, now=timezone.now()),
    }
    if context["can_change"]:
        context.update(_trial_forms(trial, bound))
    return render(request, "trials/trial_detail.html", context,
                  status=form_status(*bound.values()))



@login_required
def trial_sites(request, pk: int):
    """All the trial's sites the reader sees: sort, filter, search, page, export."""
    trial = get_object_or_404(trials_visible_to(user=request.user), pk=pk)
    return list_page(request, TRIAL_SITES, template="dashboards/trial_sites.html",
                     context={"trial": trial}, url_kwargs={"pk": pk})


@login_required
def trial_detail(request, pk: int):
    visible = trials_with_counts(queryset=trials_visible_to(user=request.user))
    # The sponsor's name in the header; the milestones for the plan, the table and the chart.
    trial = get_object_or_404(visible.select_related("sponsor").prefetch_related("milestones"),
                              pk=pk)
    return _trial_page(request, trial)



@login_required
@require_POST
def trial_transition(request, pk: int):
    trial = changeable_trial(request, pk)
    form = TrialTransitionForm(request.POST, allowed=services.trial_transitions_from(trial=trial))
    done = run_form(
        request, form,
        lambda data: services.trial_transition(trial=trial, to=data["status"], by=request.user,
                                               reason=data["change_reason"],
                                               expected_revision=data["revision"]),
        success="Trial status changed.", then=to_trial(trial),
    )
    return done or _trial_page(request, trial, transition_form=form)



@login_required
@require_POST
def milestone_create(request, pk: int):
    trial = changeable_trial(request, pk)
    form = MilestoneForm(request.POST, auto_id=MILESTONE_IDS)
    done = run_form(
        request, form,
        lambda data: services.milestone_create(trial=trial, by=request.user, **data),
        success="Milestone added.", then=to_trial(trial),
    )
    return done or _trial_page(request, trial, milestone_form=form)



@login_required
@require_POST
def amendment_create(request, pk: int):
    trial = changeable_trial(request, pk)
    form = AmendmentForm(request.POST, auto_id=AMENDMENT_IDS)
    done = run_form(
        request, form,
        lambda data: services.amendment_create(trial=trial, by=request.user, **data),
        success="Protocol amendment recorded.", then=to_trial(trial),
    )
    return done or _trial_page(request, trial, amendment_form=form)



@login_required
@require_POST
def consent_version_create(request, pk: int):
    trial = changeable_trial(request, pk)
    form = ConsentVersionForm(request.POST, auto_id=ICF_IDS)
    done = run_form(
        request, form,
        lambda data: services.consent_version_create(trial=trial, by=request.user, **data),
        success="ICF version recorded.", then=to_trial(trial),
    )
    return done or _trial_page(request, trial, consent_version_form=form)
