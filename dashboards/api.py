"""Read-side API views that compose several apps (API.md: Trials — enrollment)."""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from dashboards.enrollment import enrollment_of
from sites.selectors import sites_visible_to
from trials.selectors import trials_visible_to


class TrialEnrollmentView(APIView):
    """`GET /api/v1/trials/{id}/enrollment/`: enrollment vs plan and the forecast, as of today
    (computed on request). Totals and forecast cover the whole trial; the per-site and
    per-country tables only the sites the caller sees."""

    @extend_schema(responses={200: dict, 404: None})
    def get(self, request, pk: int):
        trial = get_object_or_404(trials_visible_to(user=request.user), pk=pk)
        today = timezone.localdate()
        e = enrollment_of(trial=trial, sites=sites_visible_to(user=request.user), today=today)
        fc = e.forecast
        return Response({
            "trial": trial.pk, "as_of": today, "target": e.target, "enrolled": e.enrolled,
            "screened": e.screened, "screen_failed": e.screen_failed,
            "screen_failure_rate": e.screen_failure_rate,
            "planned_fpi": e.fpi, "planned_lpi": e.lpi,
            "planned_to_date": None if e.planned_today is None else round(e.planned_today, 1),
            "actual": [{"date": day, "cumulative": n} for day, n in e.actual],
            "forecast": None if fc is None else {
                "method": fc.method,
                "median_date": e.forecast_date(fc.median_days),
                "interval_90": [e.forecast_date(fc.low_days), e.forecast_date(fc.high_days)],
                "mean_date": e.forecast_date(fc.mean_days),
                "probability_by_planned_lpi": fc.p_within_planned,
            },
            "forecast_note": e.forecast_method_note,
            "sites": [{"site": s.pk, "number": s.number, "country": s.country,
                       "status": s.status, "target": s.target_enrollment,
                       "screened": s.screened_count, "enrolled": s.enrolled_total,
                       "screen_failed": s.screen_failed_count,
                       "planned_to_date": None if s.planned_today is None
                       else round(s.planned_today, 1)} for s in e.sites],
            "countries": e.countries,
        })
