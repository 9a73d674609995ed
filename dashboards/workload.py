"""The CRA workload page's read: people, their sites and trials, visits due and reports late.

It crosses staffing (assignments), reminders (deadlines) and trials (what the viewer sees), so
it lives on the read side (dashboards), which nothing imports. A page shows PER_PAGE people;
every figure is computed for that page's people only, one grouped query each, so its cost
follows the page, not the number of CRAs or deadlines in the CRO.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, Sum
from django.utils import timezone

from access.roles import Role
from reminders.models import Deadline
from reminders.policies import Kind
from staffing.models import Assignment, User
from trials.selectors import trials_visible_to

PER_PAGE = 50


@dataclass
class WorkloadRow:
    cra: User
    trial_count: int = 0
    visits_next_8_weeks: int = 0
    overdue_reports: int = 0
    allocation: Decimal = Decimal(0)
    visible_sites: list[str] = field(default_factory=list)
    hidden_site_count: int = 0

    @property
    def site_count(self) -> int:
        return len(self.visible_sites) + self.hidden_site_count

    @property
    def over_allocated(self) -> bool:
        return self.allocation > self.cra.capacity


def cra_workload(*, user, today: date, now: datetime | None = None, page: int | str = 1) -> Page:
    """One page of the people with an active CRA assignment (by name): sites, trials, visits
    due in the next 8 weeks, overdue visit reports, allocation against capacity. Five queries
    whatever the number of CRAs (site names only for trials the viewer can see); the page's
    object_list holds the WorkloadRows."""
    now = now or timezone.now()
    cra_ids = Assignment.objects.active_on(today).filter(role=Role.CRA).values("user_id")
    people = User.objects.filter(pk__in=cra_ids).order_by("last_name", "first_name", "username")
    listing = Paginator(people, PER_PAGE).get_page(page)
    rows = {cra.pk: WorkloadRow(cra=cra) for cra in listing.object_list}
    if rows:
        _add_allocation(rows, today=today)
        _add_deadlines(rows, now=now)
        _add_sites(rows, user=user, today=today)
    listing.object_list = list(rows.values())  # type: ignore[arg-type]
    return listing


def _add_allocation(rows: dict[int, WorkloadRow], *, today: date) -> None:
    """Trials and allocation of the page's people over their active assignments, one query."""
    grouped = (
        Assignment.objects.active_on(today).filter(user__in=rows).order_by()
        .values("user_id")
        .annotate(trials=Count("trial", distinct=True), allocation=Sum("allocation"))
    )
    for entry in grouped:
        row = rows[entry["user_id"]]
        row.trial_count, row.allocation = entry["trials"], entry["allocation"] or Decimal(0)


def _add_deadlines(rows: dict[int, WorkloadRow], *, now: datetime) -> None:
    """Visits due in 8 weeks and overdue reports of the page's people: one grouped query over
    their open deadlines (the owner/state/due index)."""
    visits = Q(kind=Kind.MONITORING_VISIT, due_at__gte=now, due_at__lte=now + timedelta(weeks=8))
    overdue = Q(kind=Kind.VISIT_REPORT, due_at__lte=now)
    grouped = (
        Deadline.objects.filter(owner__in=rows, state=Deadline.State.OPEN)
        .filter(visits | overdue).order_by().values("owner_id")
        .annotate(visits=Count("pk", filter=visits), overdue=Count("pk", filter=overdue))
    )
    for entry in grouped:
        row = rows[entry["owner_id"]]
        row.visits_next_8_weeks, row.overdue_reports = entry["visits"], entry["overdue"]


def _add_sites(rows: dict[int, WorkloadRow], *, user, today: date) -> None:
    """Each CRA's site-scoped assignments: named when the viewer sees the trial, else counted."""
    visible = set(trials_visible_to(user=user).values_list("pk", flat=True))
    site_assignments = (
        Assignment.objects.active_on(today).filter(user__in=rows, site__isnull=False)
        .values_list("user_id", "site_id", "trial_id", "trial__protocol_number", "site__number",
                     "site__institution")
        .order_by("trial__protocol_number", "site__number")
        .distinct()
    )
    seen: set[tuple[int, int]] = set()
    for user_id, site_id, trial_id, protocol, number, institution in site_assignments:
        if (user_id, site_id) in seen:
            continue
        seen.add((user_id, site_id))
        if trial_id in visible:
            rows[user_id].visible_sites.append(f"{protocol} / {number} {institution}")
        else:
            rows[user_id].hidden_site_count += 1
