from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, F, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from access.checks import granted, rows_held, sites_seen, trial_ids_with
from access.codenames import REVIEW_SAFETY
from safety import rules
from safety.models import (
    AWAITING_REVIEW,
    SERIOUS_CASE,
    AdverseEvent,
    CaseVersion,
    CtcaeTerm,
    ObligationStatus,
    ReportingObligation,
    ReviewStatus,
)
from trials.models import Trial


def adverse_events_visible_to(*, user) -> QuerySet[AdverseEvent]:
    """Cases of the sites the user sees; sponsor viewers see aggregate counts only, never a
    case (safety_counts_for)."""
    if getattr(user, "is_sponsor_user", False):
        return AdverseEvent.objects.none()
    return granted(queryset=AdverseEvent.objects.all(), user=user,
                   where=lambda: sites_seen(user=user, via="site", trial_via="trial"))


def obligations_visible_to(*, user) -> QuerySet[ReportingObligation]:
    """The reporting obligations of the cases the user sees."""
    if getattr(user, "is_sponsor_user", False):
        return ReportingObligation.objects.none()
    return granted(queryset=ReportingObligation.objects.all(), user=user,
                   where=lambda: sites_seen(user=user, via="adverse_event__site",
                                              trial_via="trial"))


def adverse_events_reviewable_by(*, user) -> QuerySet[AdverseEvent]:
    """Events the user may medically review: the medical monitor of the event's trial."""
    return rows_held(queryset=AdverseEvent.objects.all(), user=user, codename=REVIEW_SAFETY)


def review_queue_for(*, user) -> QuerySet[AdverseEvent]:
    """Serious cases awaiting medical review on the trials the user reviews, nearest clock
    first: the review deadline, then the nearest report due (index trial, review_status,
    review_due_on)."""
    return (
        adverse_events_reviewable_by(user=user)
        .filter(SERIOUS, review_status=ReviewStatus.PENDING)
        .select_related("subject", "site", "trial", "term")
        .order_by(F("review_due_on").asc(nulls_last=True), F("next_due_on").asc(nulls_last=True),
                  "id")
    )


def ctcae_terms_search(*, query: str) -> QuerySet[CtcaeTerm]:
    query = (query or "").strip()
    terms = CtcaeTerm.objects.all()
    if query:
        terms = terms.filter(
            Q(term__icontains=query) | Q(meddra_code=query) | Q(soc__icontains=query)
        )
    return terms


# ---- case pages

def case_versions_of(*, event: AdverseEvent) -> QuerySet[CaseVersion]:
    """A case's timeline, oldest first, with who recorded each piece of information."""
    return (CaseVersion.objects.filter(adverse_event=event).select_related("recorded_by")
            .order_by("number"))


def case_obligations_of(*, event: AdverseEvent) -> QuerySet[ReportingObligation]:
    """Every reporting obligation of a case, cancelled and submitted ones too, by due date."""
    return (ReportingObligation.objects.filter(adverse_event=event)
            .select_related("trial", "submitted_by").order_by("due_on", "rule", "recipient", "pk"))


# ---- queue: the medical monitor's queue and the safety counts of a trial

SERIOUS = SERIOUS_CASE  # ICH E2A: any criterion ticked
OBLIGATION_STATES = ("open", "overdue", "submitted", "cancelled")


def reviews_safety_somewhere(*, user) -> bool:
    """Whether the user has a medical monitor's queue: an administrator, or whoever holds the
    review permission on some trial (never a member of a sponsor)."""
    if not user.is_authenticated or user.is_sponsor_user:
        return False
    return user.is_superuser or trial_ids_with(user=user, codename=REVIEW_SAFETY).exists()


def obligation_queue_for(*, user, now: datetime,
                         state: str = "open") -> QuerySet[ReportingObligation]:
    """The reporting obligations of the trials the user reviews, in one state, nearest due
    first (index trial, status, due_on)."""
    obligations = rows_held(queryset=ReportingObligation.objects.all(), user=user,
                            codename=REVIEW_SAFETY)
    return (obligations_in_state(queryset=obligations, state=state, now=now)
            .select_related("trial", "adverse_event__subject", "adverse_event__site",
                            "adverse_event__term")
            .order_by("due_on", "id"))


def obligations_in_state(*, queryset: QuerySet, state: str, now: datetime) -> QuerySet:
    """open, submitted, cancelled: by status; overdue: open past its due date on its trial's
    safety clock (DOMAIN A2), one condition per safety time zone in use."""
    if state not in OBLIGATION_STATES:
        raise ValueError(f"Unknown obligation state {state!r}")
    if state != "overdue":
        return queryset.filter(status=state)
    zones = Trial.objects.order_by().values_list("safety_timezone", flat=True).distinct()
    late = Q(pk__in=[])
    for zone in zones:
        late |= Q(trial__safety_timezone=zone, due_on__lt=rules.day_zero(now, zone=zone))
    return queryset.filter(late, status=ObligationStatus.OPEN)


@dataclass(frozen=True)
class Clock:
    """A due date and the calendar days left to it on the trial's safety clock."""

    due_on: date
    days_left: int

    @property
    def late(self) -> bool:
        return self.days_left < 0

    @property
    def label(self) -> str:
        days = abs(self.days_left)
        unit = "day" if days == 1 else "days"
        if self.days_left == 0:
            return "due today"
        return f"overdue by {days} {unit}" if self.late else f"{days} {unit} left"


class SafetyToday:
    """Today on each trial's safety clock, worked out once per time zone (not per row) from
    the stored due dates: reads never evaluate the reporting rules."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._dates: dict[str, date] = {}

    def clock(self, due_on: date | None, zone: str) -> Clock | None:
        if due_on is None:
            return None
        if zone not in self._dates:
            self._dates[zone] = rules.day_zero(self.now, zone=zone)
        return Clock(due_on=due_on, days_left=(due_on - self._dates[zone]).days)


@dataclass(frozen=True)
class QueueRow:
    """A case to review (its clock: the review deadline; `report`: its nearest report due) or
    a reporting obligation (its clock: the due date, while it is open)."""

    event: AdverseEvent
    trial: Trial
    clock: Clock | None
    report: Clock | None = None
    obligation: ReportingObligation | None = None
    seven_day: Clock | None = None  # the reporting clocks from Day 0, were it a SUSAR
    fifteen_day: Clock | None = None


def queue_case_rows(*, events, today: SafetyToday) -> list[QueueRow]:
    """Each case with its review deadline, its nearest report due, and the 7-day (fatal or
    life-threatening) and 15-day clocks that run from its Day 0 should it be a SUSAR."""
    rows = []
    for e in events:
        zone = e.trial.safety_timezone
        grave = bool({rules.DEATH, rules.LIFE_THREATENING} & set(e.seriousness_criteria))
        rows.append(QueueRow(
            event=e, trial=e.trial, clock=today.clock(e.review_due_on, zone),
            report=today.clock(e.next_due_on, zone),
            seven_day=today.clock(e.day_zero + timedelta(days=7), zone)
            if e.day_zero and grave else None,
            fifteen_day=today.clock(e.day_zero + timedelta(days=15), zone)
            if e.day_zero else None))
    return rows


def queue_obligation_rows(*, obligations, today: SafetyToday) -> list[QueueRow]:
    return [QueueRow(event=o.adverse_event, trial=o.trial, obligation=o,
                     clock=(today.clock(o.due_on, o.trial.safety_timezone)
                            if o.status == ObligationStatus.OPEN else None))
            for o in obligations]


def queue_first_rows(*, user, now: datetime, limit: int = 10) -> list[QueueRow]:
    """The queue's nearest `limit` clocks of both kinds (cases to review, open obligations),
    in two bounded queries."""
    today = SafetyToday(now)
    rows = (queue_case_rows(events=review_queue_for(user=user)[:limit], today=today)
            + queue_obligation_rows(obligations=obligation_queue_for(user=user, now=now)[:limit],
                                    today=today))
    return sorted(rows, key=lambda r: r.clock.days_left if r.clock else 10**6)[:limit]


def adverse_events_counted_for(*, user) -> QuerySet[AdverseEvent]:
    """The cases behind a user's safety counts: those of the sites they see, a sponsor
    viewer's too. For aggregates only: a case itself is read through adverse_events_visible_to
    (a sponsor viewer never gets one)."""
    return granted(queryset=AdverseEvent.objects.all(), user=user,
                   where=lambda: sites_seen(user=user, via="site", trial_via="trial"))


def obligations_counted_for(*, user) -> QuerySet[ReportingObligation]:
    """The obligations behind a user's safety counts (aggregates only, as above)."""
    return granted(queryset=ReportingObligation.objects.all(), user=user,
                   where=lambda: sites_seen(user=user, via="adverse_event__site",
                                              trial_via="trial"))


def trial_case_counts(*, user, trial: Trial) -> dict[str, int]:
    """Cases, serious ones, serious ones awaiting review and SUSARs: one query of four
    counts, each read from an index alone (the trial's, and the partial ones of serious cases,
    of the review queue and of SUSARs), not from the trial's cases."""
    cases = adverse_events_counted_for(user=user).filter(trial=trial).order_by()

    def counted(rows: QuerySet) -> Coalesce:
        return Coalesce(Subquery(rows.values("trial").annotate(n=Count("*")).values("n")), 0)

    row = Trial.objects.filter(pk=trial.pk).values(
        cases=counted(cases), serious=counted(cases.filter(SERIOUS)),
        pending=counted(cases.filter(AWAITING_REVIEW)),
        susars=counted(cases.filter(is_susar=True))).get()
    return {"cases": row["cases"], "serious": row["serious"], "pending": row["pending"],
            "susars": row["susars"]}


def trial_obligation_counts(*, user, trial: Trial, now: datetime) -> dict:
    """Obligations by state (overdue: open past due on the trial's safety clock) and the
    on-time rate of the submitted ones, in percent: one aggregate query."""
    today = rules.day_zero(now, zone=trial.safety_timezone)
    is_open, submitted = Q(status=ObligationStatus.OPEN), Q(status=ObligationStatus.SUBMITTED)
    counts = obligations_counted_for(user=user).filter(trial=trial).aggregate(
        open=Count("pk", filter=is_open), overdue=Count("pk", filter=is_open & Q(due_on__lt=today)),
        submitted_on_time=Count("pk", filter=submitted & Q(on_time=True)),
        submitted_late=Count("pk", filter=submitted & Q(on_time=False)),
        cancelled=Count("pk", filter=Q(status=ObligationStatus.CANCELLED)))
    sent = counts["submitted_on_time"] + counts["submitted_late"]
    counts["on_time_rate"] = round(100 * counts["submitted_on_time"] / sent) if sent else None
    return counts


def trial_safety_summary(*, user, trial: Trial, now: datetime) -> dict:
    """The trial page's safety line: serious cases, open and overdue obligations (2 queries)."""
    obligations = trial_obligation_counts(user=user, trial=trial, now=now)
    return {"serious": trial_case_counts(user=user, trial=trial)["serious"],
            "open": obligations["open"], "overdue": obligations["overdue"]}


def serious_cases_by_soc(*, user, trial: Trial) -> list[dict]:
    """Serious cases per MedDRA SOC of their CTCAE term (uncoded ones under None): GROUP BY."""
    return list(adverse_events_counted_for(user=user).filter(SERIOUS, trial=trial)
                .values("term__soc").annotate(cases=Count("pk")).order_by("-cases", "term__soc"))


def site_timeliness(*, user, trial: Trial) -> list[dict]:
    """Per site, its serious cases and those it reported late to the sponsor (more than 24 h
    after its awareness, DOMAIN A3; stored as site_report_late): GROUP BY."""
    rows = (adverse_events_counted_for(user=user).filter(SERIOUS, trial=trial)
            .values("site_id", "site__number")
            .annotate(serious_reports=Count("pk"),
                      late_reports=Count("pk", filter=Q(site_report_late=True)))
            .order_by("site__number"))
    return [{**row, "late_pct": round(100 * row["late_reports"] / row["serious_reports"])}
            for row in rows]
