from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from reminders.models import Deadline
from reminders.policies import Kind
from staffing.models import Assignment, Role, TrainingRecord, User
from trials.selectors import trial_ids_with, trials_visible_to


def assignments_visible_to(*, user) -> QuerySet[Assignment]:
    """Your own assignments, and every assignment on a trial whose staff you manage."""
    if not user.is_authenticated:
        return Assignment.objects.none()
    if user.is_superuser:
        return Assignment.objects.all()
    return Assignment.objects.filter(
        Q(user=user) | Q(trial__in=trial_ids_with(user=user, codename="manage_staff"))
    )


def active_assignments_of(*, user: User) -> QuerySet[Assignment]:
    return (
        Assignment.objects.active_on(timezone.localdate())
        .filter(user=user)
        .select_related("trial", "site")
    )


def roles_of(*, user) -> set[str]:
    """The roles the user holds today on any trial (drives navigation and the home page)."""
    if not user.is_authenticated:
        return set()
    return set(active_assignments_of(user=user).values_list("role", flat=True))


ROLE_ORDER = [Role.CRM, Role.CRA, Role.MEDICAL_MONITOR, Role.SPONSOR_VIEWER]


# ------------------------------------------------------------------------------ training records

def people_on_managed_trials(*, user, today: date | None = None) -> QuerySet:
    """Subquery of the ids of people actively assigned to trials whose staff the user manages."""
    today = today or timezone.localdate()
    return (
        Assignment.objects.active_on(today)
        .filter(trial__in=trial_ids_with(user=user, codename="manage_staff"))
        .values("user_id")
    )


def training_records_visible_to(*, user) -> QuerySet[TrainingRecord]:
    """Your own training records, and those of the people on trials whose staff you manage."""
    if not user.is_authenticated:
        return TrainingRecord.objects.none()
    if user.is_superuser:
        return TrainingRecord.objects.all()
    if user.is_sponsor_user:
        return TrainingRecord.objects.filter(user=user)
    return TrainingRecord.objects.filter(
        Q(user=user) | Q(user__in=people_on_managed_trials(user=user))
    )


def training_people_for(*, user) -> QuerySet[User]:
    """The people whose training records the user may add or correct: themself (not a sponsor
    user), everyone on a trial whose staff they manage; a superuser anyone."""
    if not user.is_authenticated:
        return User.objects.none()
    if user.is_superuser:
        return User.objects.all()
    if user.is_sponsor_user:
        return User.objects.none()
    return User.objects.filter(Q(pk=user.pk) | Q(pk__in=people_on_managed_trials(user=user)))


def training_can_change(*, user, person: User) -> bool:
    return training_people_for(user=user).filter(pk=person.pk).exists()


def training_rows(records, *, today: date) -> list[dict]:
    """Display rows: each record with its status; a record replaced by a later-expiring one of
    the same training shows as renewed (its reminders have ended)."""
    records = list(records)
    latest: dict[tuple, date] = {}
    for record in records:
        key = _training_key(record)
        if record.expires_on and (key not in latest or record.expires_on > latest[key]):
            latest[key] = record.expires_on
    rows = []
    for record in records:
        key = _training_key(record)
        renewed = record.expires_on is not None and record.expires_on < latest[key]
        rows.append({"record": record,
                     "status": "renewed" if renewed else record.status_on(today)})
    return rows


def _training_key(record: TrainingRecord) -> tuple:
    titled = record.kind in (TrainingRecord.Kind.PROTOCOL, TrainingRecord.Kind.OTHER)
    return (record.user_id, record.kind, record.title.lower() if titled else "")


# ------------------------------------------------------------------------------- CRA workload

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
    return list(rows.values())


def _open_deadlines(kind: str, **due) -> Coalesce:
    counted = (
        Deadline.objects.filter(owner=OuterRef("pk"), kind=kind, state=Deadline.State.OPEN, **due)
        .order_by().values("owner").annotate(n=Count("pk")).values("n")
    )
    return Coalesce(Subquery(counted), 0)
