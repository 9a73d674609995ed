"""The CRA workload page's read: people, their sites and trials, visits due and reports late.

It crosses staffing (assignments), reminders (deadlines) and trials (what the viewer sees), so
it lives on the read side (dashboards), which nothing imports.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from access.roles import Role
from reminders.models import Deadline
from reminders.policies import Kind
from staffing.models import Assignment, User
from trials.selectors import trials_visible_to


@dataclass
class WorkloadRow:
    cra: User
    trial_count: int
    visits_next_8_weeks: int
    overdue_reports: int
    allocation: Decimal
    visible_sites: list[str] = field(default_factory=list)
    hidden_site_count: int = 0

    @property
    def site_count(self) -> int:
        return len(self.visible_sites) + self.hidden_site_count

    @property
    def over_allocated(self) -> bool:
        return self.allocation > self.cra.capacity


def cra_workload(*, user, today: date, now: datetime | None = None) -> list[WorkloadRow]:
    """One row per person with an active CRA assignment: sites, trials, visits due in the next
    8 weeks, overdue visit reports, allocation against capacity. Four queries, whatever the
    number of CRAs (site names only for trials the viewer can see)."""
    now = now or timezone.now()
    active = Q(assignments__start_date__lte=today) & (
        Q(assignments__end_date__isnull=True) | Q(assignments__end_date__gte=today)
    )
    cra_ids = Assignment.objects.active_on(today).filter(role=Role.CRA).values("user_id")
    cras = (
        User.objects.filter(pk__in=cra_ids)
        .annotate(
            trial_count=Count("assignments__trial", filter=active, distinct=True),
            allocation=Coalesce(Sum("assignments__allocation", filter=active), Decimal(0)),
            visits_next_8_weeks=_open_deadlines(
                Kind.MONITORING_VISIT, due_at__gte=now, due_at__lte=now + timedelta(weeks=8)),
            overdue_reports=_open_deadlines(Kind.VISIT_REPORT, due_at__lte=now),
        )
        .order_by("last_name", "first_name", "username")
    )
    rows = {cra.pk: WorkloadRow(cra=cra, trial_count=cra.trial_count,
                                visits_next_8_weeks=cra.visits_next_8_weeks,
                                overdue_reports=cra.overdue_reports, allocation=cra.allocation)
            for cra in cras}
    _add_sites(rows, cra_ids=cra_ids, user=user, today=today)
    return list(rows.values())


def _add_sites(rows: dict[int, WorkloadRow], *, cra_ids, user, today: date) -> None:
    """Each CRA's site-scoped assignments: named when the viewer sees the trial, else counted."""
    visible = set(trials_visible_to(user=user).values_list("pk", flat=True))
    site_assignments = (
        Assignment.objects.active_on(today).filter(user__in=cra_ids, site__isnull=False)
        .values_list("user_id", "site_id", "trial_id", "trial__protocol_number", "site__number",
                     "site__institution")
        .order_by("trial__protocol_number", "site__number")
        .distinct()
    )
    seen: set[tuple[int, int]] = set()
    for user_id, site_id, trial_id, protocol, number, institution in site_assignments:
        if user_id not in rows or (user_id, site_id) in seen:
            continue
        seen.add((user_id, site_id))
        if trial_id in visible:
            rows[user_id].visible_sites.append(f"{protocol} / {number} {institution}")
        else:
            rows[user_id].hidden_site_count += 1


def _open_deadlines(kind: str, **due) -> Coalesce:
    counted = (
        Deadline.objects.filter(owner=OuterRef("pk"), kind=kind, state=Deadline.State.OPEN, **due)
        .order_by().values("owner").annotate(n=Count("pk")).values("n")
    )
    return Coalesce(Subquery(counted), 0)
