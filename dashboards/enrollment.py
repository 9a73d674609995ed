"""Enrollment against plan, computed on request from the subjects themselves (no batch job).

Plan: a trial's planned cumulative enrollment rises linearly from the planned first patient in
(FPI) to the planned last patient in (LPI), reaching the trial's target; a site's from its
planned activation (else FPI) to LPI, reaching the site's target. Forecast: the Poisson-gamma
model of DOMAIN A6 / B §9 (trials.forecast), per-site rates from enrollment so far.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce

from sites.models import Site, SiteStatus, Subject, SubjectStatus
from trials.forecast import Centre, Forecast, forecast, pooled_prior_from_plan
from trials.forecast_cache import fingerprint, forecasts_cached
from trials.models import Milestone, MilestoneKind, Trial

# Enrolled at some point (now enrolled, completed or withdrawn): the same rule as the trial and
# site counts elsewhere; the cumulative curve places each at its enrollment date.
ENROLLED_STATUSES = (SubjectStatus.ENROLLED, SubjectStatus.COMPLETED, SubjectStatus.WITHDRAWN)
ENROLLED = Q(status__in=ENROLLED_STATUSES)


def planned_at(*, day: date, start: date | None, end: date | None, target: int) -> float | None:
    """Planned cumulative enrollment on `day` (linear from start to end); None without a plan."""
    if start is None or end is None or end <= start or target <= 0:
        return None
    if day <= start:
        return 0.0
    if day >= end:
        return float(target)
    return target * (day - start).days / (end - start).days


def plan_window(*, milestones: list[Milestone]) -> tuple[date | None, date | None]:
    """The planned FPI and LPI dates (the current plan, not the baseline)."""
    by_kind = {m.kind: m for m in milestones}
    fpi, lpi = by_kind.get(MilestoneKind.FPI), by_kind.get(MilestoneKind.LPI)
    return (fpi.planned_date if fpi else None), (lpi.planned_date if lpi else None)


ENROLLMENT_COUNTS = ("screened_count", "screen_failed_count", "enrolled_total",
                     "screening_count", "withdrawn_count")


def sites_with_enrollment(*, queryset: QuerySet[Site]) -> QuerySet[Site]:
    """Screened, screen-failed, enrolled and active subjects per site: the counts the subject
    services keep (SiteEnrollment), one joined row per site rather than every subject."""
    return queryset.annotate(**{
        name: Coalesce(F(f"enrollment__{name}"), 0) for name in ENROLLMENT_COUNTS})


def screen_failure_rate(*, screened: int, failed: int, still_screening: int = 0) -> float | None:
    """Failures among subjects whose screening has ended (None before any has)."""
    decided = screened - still_screening
    return failed / decided if decided > 0 else None


@dataclass
class SiteRow:
    """One site's line of a trial's enrollment tables, read as values rather than a model
    instance (a large trial has a thousand sites, each counted for the forecast)."""

    pk: int
    trial_id: int
    number: str
    institution: str
    country: str
    status: str
    target_enrollment: int
    activated_on: date | None
    planned_activation_on: date | None
    screened_count: int
    screen_failed_count: int
    enrolled_total: int
    screening_count: int
    withdrawn_count: int
    seen: bool
    planned_today: float | None = None
    screen_failure_rate: float | None = None

    def get_status_display(self) -> str:
        return str(SiteStatus(self.status).label)


SITE_ROW_FIELDS = ("pk", "trial_id", "number", "institution", "country", "status",
                   "target_enrollment", "activated_on", "planned_activation_on",
                   *ENROLLMENT_COUNTS, "seen")


@dataclass
class Enrollment:
    trial: Trial
    today: date
    enrolled: int
    screened: int
    screen_failed: int
    screening: int
    fpi: date | None
    lpi: date | None
    planned_today: float | None
    actual: list[tuple[date, int]]           # cumulative, one point per enrollment day
    sites: list[SiteRow]
    countries: list[dict] = field(default_factory=list)
    forecast: Forecast | None = None
    forecast_method_note: str = ""

    @property
    def target(self) -> int:
        return self.trial.target_enrollment

    @property
    def screen_failure_rate(self) -> float | None:
        return screen_failure_rate(screened=self.screened, failed=self.screen_failed,
                                   still_screening=self.screening)

    @property
    def percent_of_target(self) -> float | None:
        return 100 * self.enrolled / self.target if self.target else None

    @property
    def behind_plan(self) -> float | None:
        return None if self.planned_today is None else self.enrolled - self.planned_today

    def forecast_date(self, days: float | None) -> date | None:
        return None if days is None else self.today + timedelta(days=round(days))

    def chart(self) -> dict:
        """Chart.js series on a day axis (x = ISO date), for the enrollment chart."""
        actual = [{"x": day.isoformat(), "y": n} for day, n in self.actual]
        if actual:
            actual.append({"x": self.today.isoformat(), "y": self.enrolled})
        planned = []
        if self.fpi and self.lpi and self.target:
            planned = [{"x": self.fpi.isoformat(), "y": 0},
                       {"x": self.lpi.isoformat(), "y": self.target}]
        band: dict = {}
        fc = self.forecast
        if fc is not None and fc.method != "done":
            start = {"x": self.today.isoformat(), "y": self.enrolled}
            band = {
                name: [start, {"x": (self.today + timedelta(days=round(days))).isoformat(),
                               "y": self.target}]
                for name, days in (("median", fc.median_days), ("low", fc.low_days),
                                   ("high", fc.high_days))
            }
        return {"actual": actual, "planned": planned, "forecast": band, "target": self.target,
                "today": self.today.isoformat()}


def enrollment_of(*, trial: Trial, sites: QuerySet[Site], today: date) -> Enrollment:
    """Enrollment of one trial: totals over all its subjects, tables over the `sites` given
    (those the viewer sees), the plan, and the forecast. A fixed number of queries."""
    per_day = (Subject.objects.filter(trial=trial).filter(ENROLLED, enrolled_on__isnull=False)
               .values_list("enrolled_on").annotate(n=Count("pk")).order_by("enrolled_on"))
    actual, running = [], 0
    for day, n in per_day:
        running += n
        actual.append((day, running))
    milestones = list(trial.milestones.all())
    fpi, lpi = plan_window(milestones=milestones)
    # Every site of the trial in one query (the forecast covers them all, the totals are
    # their subjects' counts), each marked with whether the viewer sees it (the tables show
    # those only).
    every_site = [SiteRow(**row) for row in sites_with_enrollment(
        queryset=Site.objects.filter(trial=trial)).annotate(
        seen=Exists(sites.filter(pk=OuterRef("pk")))).order_by("number").values(
        *SITE_ROW_FIELDS)]
    site_rows = [site for site in every_site if site.seen]
    for site in site_rows:
        site.planned_today = planned_at(day=today, start=site.planned_activation_on or fpi,
                                        end=lpi, target=site.target_enrollment)
        site.screen_failure_rate = screen_failure_rate(
            screened=site.screened_count, failed=site.screen_failed_count,
            still_screening=site.screening_count)
    result = Enrollment(
        trial=trial, today=today, enrolled=sum(s.enrolled_total for s in every_site),
        screened=sum(s.screened_count for s in every_site),
        screen_failed=sum(s.screen_failed_count for s in every_site),
        screening=sum(s.screening_count for s in every_site), fpi=fpi, lpi=lpi,
        planned_today=planned_at(day=today, start=fpi, end=lpi, target=trial.target_enrollment),
        actual=actual, sites=site_rows, countries=_by_country(site_rows),
    )
    all_sites = [{name: getattr(site, name) for name in SITE_ROW} for site in every_site]
    result.forecast, result.forecast_method_note = forecasts_for(
        inputs={trial.pk: (trial, result.enrolled, fpi, lpi, all_sites)}, today=today)[trial.pk]
    return result


def _by_country(sites: list[SiteRow]) -> list[dict]:
    rows: dict[str, dict] = {}
    for site in sites:
        row = rows.setdefault(site.country, {"country": site.country, "sites": 0, "active": 0,
                                             "target": 0, "screened": 0, "enrolled": 0,
                                             "screen_failed": 0, "screening": 0})
        row["sites"] += 1
        row["active"] += site.status == SiteStatus.ACTIVE
        row["target"] += site.target_enrollment
        row["screened"] += site.screened_count
        row["enrolled"] += site.enrolled_total
        row["screen_failed"] += site.screen_failed_count
        row["screening"] += site.screening_count
    for row in rows.values():
        row["screen_failure_rate"] = screen_failure_rate(
            screened=row["screened"], failed=row["screen_failed"],
            still_screening=row["screening"])
    return sorted(rows.values(), key=lambda r: (-r["enrolled"], r["country"]))


SITE_ROW = ("trial_id", "status", "activated_on", "planned_activation_on", "enrolled_total")


FORECAST_NOTES = {
    "hierarchical": "Per-site Poisson-gamma model fitted across the open sites.",
    "simulated": "Per-site Poisson-gamma model, sites still to open counted from their "
                 "planned activation.",
    "pooled": "Pooled Poisson-gamma model with a prior from the planned FPI-LPI.",
    "done": "Target reached.",
}


def _centres(site_rows: list[dict], today: date) -> tuple[list[Centre], list[float]]:
    """Open sites as centres (enrolled, days open); sites to open as days until planned."""
    open_centres, unopened = [], []
    for site in site_rows:
        if site["status"] == SiteStatus.CLOSED:
            continue
        if site["activated_on"] is not None and site["activated_on"] <= today:
            open_centres.append(Centre(enrolled=site["enrolled_total"],
                                       active_days=float((today - site["activated_on"]).days)))
        elif site["planned_activation_on"] is not None:
            unopened.append(float(max(0, (site["planned_activation_on"] - today).days)))
    return open_centres, unopened


FORECAST_MODEL = 1  # part of every fingerprint: raise it when the model or its inputs change


def forecasts_for(*, inputs: dict[int, tuple], today: date) -> dict[int, tuple]:
    """(forecast, note) of each trial, `inputs` giving trial id -> (trial, enrolled, fpi,
    lpi, site rows): reused while all of that and the day are unchanged (forecast_cache)."""
    def key(trial: Trial, enrolled: int, fpi, lpi, site_rows: list[dict]) -> str:
        sites = sorted(repr((s["status"], s["activated_on"], s["planned_activation_on"],
                             s["enrolled_total"])) for s in site_rows)
        return fingerprint(FORECAST_MODEL, today, trial.target_enrollment, enrolled, fpi, lpi,
                           sites)

    def compute(trial_id: int) -> tuple:
        trial, enrolled, fpi, lpi, site_rows = inputs[trial_id]
        return trial_forecast(trial=trial, enrolled=enrolled, fpi=fpi, lpi=lpi,
                              site_rows=site_rows, today=today)

    return forecasts_cached(inputs={pk: key(*given) for pk, given in inputs.items()},
                            compute=compute)


def trial_forecast(*, trial: Trial, enrolled: int, fpi: date | None, lpi: date | None,
                   site_rows: list[dict], today: date) -> tuple[Forecast | None, str]:
    """Per-site Poisson-gamma when at least three sites have been open a while (rates fitted
    across sites); otherwise the pooled model with a prior from the plan (FPI → LPI).
    `site_rows`: every site of the trial as dicts of SITE_ROW (no queries here)."""
    remaining = trial.target_enrollment - enrolled
    if trial.target_enrollment <= 0:
        return None, "No enrollment target."
    planned_days = (lpi - today).days if lpi else None
    if planned_days is not None and planned_days < 0:
        planned_days = 0
    open_centres, unopened = _centres(site_rows, today)
    pooled = None
    first_open = min((s["activated_on"] for s in site_rows if s["activated_on"]), default=None)
    if fpi and lpi and lpi > fpi:
        pooled = pooled_prior_from_plan(target=trial.target_enrollment,
                                        planned_days=float((lpi - fpi).days))
    elapsed = float(max(0, (today - first_open).days)) if first_open else 0.0
    try:
        result = forecast(remaining=remaining, open_centres=open_centres,
                          unopened_in_days=unopened if open_centres else (),
                          pooled_prior=pooled, pooled_enrolled=enrolled,
                          pooled_elapsed_days=elapsed, planned_days=planned_days)
    except ValueError as error:  # inconsistent data (e.g. activation in the future)
        return None, f"No forecast: {error}"
    if result is None:
        return None, ("No forecast yet: it needs three open sites with enrollment, or planned "
                      "FPI and LPI milestones.")
    return result, FORECAST_NOTES.get(result.method, "")


@dataclass
class PortfolioRow:
    trial: Trial
    planned_today: float | None
    next_milestone: Milestone | None
    sites_total: int
    sites_active: int
    sites_planned_by_today: int
    overdue_deadlines: int
    forecast: Forecast | None
    today: date

    @property
    def enrolled(self) -> int:
        return self.trial.enrolled_count  # type: ignore[attr-defined]

    @property
    def forecast_median(self) -> date | None:
        if self.forecast is None:
            return None
        return self.today + timedelta(days=round(self.forecast.median_days))


def portfolio(*, trials: list[Trial], overdue_by_trial: dict[int, int],
              today: date) -> list[PortfolioRow]:
    """One row per trial (trials annotated by trials_with_counts): two more queries in all."""
    ids = [t.pk for t in trials]
    milestones: dict[int, list[Milestone]] = {pk: [] for pk in ids}
    for m in Milestone.objects.filter(trial_id__in=ids).order_by("planned_date", "pk"):
        milestones[m.trial_id].append(m)
    site_rows: dict[int, list[dict]] = {pk: [] for pk in ids}
    enrolled_sites = sites_with_enrollment(queryset=Site.objects.filter(trial_id__in=ids))
    for row in enrolled_sites.values(*SITE_ROW):
        site_rows[row["trial_id"]].append(row)
    windows = {trial.pk: plan_window(milestones=milestones[trial.pk]) for trial in trials}
    forecasts = forecasts_for(inputs={
        t.pk: (t, t.enrolled_count, *windows[t.pk], site_rows[t.pk])  # type: ignore[attr-defined]
        for t in trials}, today=today)
    rows = []
    for trial in trials:
        fpi, lpi = windows[trial.pk]
        pending = [m for m in milestones[trial.pk] if m.actual_date is None and m.planned_date]
        sites = site_rows[trial.pk]
        fc, _ = forecasts[trial.pk]
        rows.append(PortfolioRow(
            trial=trial,
            planned_today=planned_at(day=today, start=fpi, end=lpi, target=trial.target_enrollment),
            next_milestone=pending[0] if pending else None,
            sites_total=sum(1 for s in sites if s["status"] != SiteStatus.CLOSED),
            sites_active=sum(1 for s in sites if s["status"] == SiteStatus.ACTIVE),
            sites_planned_by_today=sum(
                1 for s in sites
                if s["planned_activation_on"] and s["planned_activation_on"] <= today),
            overdue_deadlines=overdue_by_trial.get(trial.pk, 0),
            forecast=fc, today=today,
        ))
    return rows
