"""The read side across apps: role home pages and audit trails (reads only, through selectors)."""

from collections.abc import Callable
from datetime import datetime
from functools import partial

from django.db.models import Count, Model, Q, QuerySet
from django.utils import timezone

from access.codenames import MANAGE_STAFF
from dashboards.audit_labels import labellers, readable_changes
from dashboards.enrollment import PortfolioRow, portfolio
from reminders.selectors import deadlines_for_list, deadlines_visible_to
from safety.selectors import adverse_events_visible_to, queue_first_rows
from sites.models import EssentialDocument, SiteConsentVersion
from sites.selectors import (
    consent_records_visible_to,
    site_records_visible_to,
    sites_changeable_by,
    sites_visible_to,
    sites_with_counts,
    subjects_visible_to,
)
from staffing.models import Role, User
from staffing.selectors import assignments_visible_to, roles_of
from trials.models import ConsentVersion, Milestone, ProtocolAmendment
from trials.selectors import (
    trial_records_visible_to,
    trials_visible_to,
    trials_with_counts,
    trials_with_permission,
)

AUDITED_KINDS: dict[str, Callable[..., QuerySet]] = {
    "trial": trials_visible_to,
    "site": sites_visible_to,
    "subject": subjects_visible_to,
    "adverse-event": adverse_events_visible_to,
    "assignment": assignments_visible_to,
    "milestone": partial(trial_records_visible_to, model=Milestone),
    "amendment": partial(trial_records_visible_to, model=ProtocolAmendment),
    "consent-version": partial(trial_records_visible_to, model=ConsentVersion),
    "essential-document": partial(site_records_visible_to, model=EssentialDocument),
    "site-consent-version": partial(site_records_visible_to, model=SiteConsentVersion),
    "consent-record": consent_records_visible_to,
}


def home_for(*, user) -> dict:
    """What each of the user's roles shows on the home page; a bounded number of queries."""
    roles = roles_of(user=user)
    sections: dict = {"roles": roles}
    today, now = timezone.localdate(), timezone.now()
    if Role.CRM in roles:
        sections["crm_trials"] = list(
            trials_with_counts(queryset=trials_with_permission(user=user, codename=MANAGE_STAFF))
        )
        overdue = overdue_deadlines_by_trial(
            user=user, trial_ids=[t.pk for t in sections["crm_trials"]], now=now)
        sections["crm_portfolio"] = portfolio_rows(
            rows=portfolio(trials=sections["crm_trials"], overdue_by_trial=overdue, today=today))
    if Role.CRA in roles:
        changeable = sites_changeable_by(user=user)
        sections["cra_sites"] = list(sites_with_counts(queryset=changeable)[:100])
    if Role.MEDICAL_MONITOR in roles:
        # The queue's nearest clocks of both kinds; review_queue: the cases among them.
        sections["monitor_queue"] = queue_first_rows(user=user, now=now, limit=10)
        sections["review_queue"] = [row.event for row in sections["monitor_queue"]
                                    if row.obligation is None]
    if Role.SPONSOR_VIEWER in roles:
        sections["sponsor_trials"] = list(trials_with_counts(queryset=trials_visible_to(user=user)))
        # Sponsors see enrollment against target, never the CRO's working deadlines.
        sections["sponsor_portfolio"] = portfolio_rows(
            rows=portfolio(trials=sections["sponsor_trials"], overdue_by_trial={}, today=today))
    if not user.is_sponsor_user:
        sections["my_deadlines"] = list(deadlines_for_list(
            queryset=deadlines_visible_to(user=user)
            .filter(Q(owner=user) | Q(escalation_user=user), state="open"))[:8])
    return sections


def overdue_deadlines_by_trial(*, user, trial_ids: list[int], now: datetime) -> dict[int, int]:
    """Open deadlines past due per trial, among those the user sees: one aggregate query."""
    rows = (deadlines_visible_to(user=user)
            .filter(trial_id__in=trial_ids, state="open", due_at__lte=now)
            .values("trial_id").annotate(n=Count("pk")).order_by())
    return {row["trial_id"]: row["n"] for row in rows}


def portfolio_rows(*, rows: list[PortfolioRow]) -> list[dict]:
    """A portfolio row with what the table prints: progress, plan, forecast, next milestone."""
    return [_portfolio_row(row) for row in rows]


def _portfolio_row(row: PortfolioRow) -> dict:
    planned = row.planned_today
    fc = row.forecast
    milestone = row.next_milestone
    slippage = milestone.slippage_days if milestone else None
    p_lpi = fc.p_within_planned if fc is not None else None
    return {
        "row": row, "trial": row.trial, "enrolled": row.enrolled,
        "target": row.trial.target_enrollment,
        "planned_today": None if planned is None else round(planned),
        "versus_plan": None if planned is None else round(row.enrolled - planned),
        "behind_by": None if planned is None else max(0, round(planned - row.enrolled)),
        "target_reached": fc is not None and fc.method == "done",
        "forecast_median": row.forecast_median if fc is not None and fc.method != "done"
        else None,
        # The median meets the planned LPI exactly when P(done by LPI) >= 1/2.
        "meets_lpi": None if p_lpi is None else p_lpi >= 0.5,
        "p_lpi": None if p_lpi is None else round(100 * p_lpi),
        "next_milestone": milestone, "slippage": slippage, "late": (slippage or 0) > 0,
        "milestone_overdue": (milestone is not None and milestone.planned_date is not None
                              and milestone.planned_date < row.today),
    }


def audit_record_for(*, user, kind: str, pk: int) -> Model | None:
    selector = AUDITED_KINDS.get(kind)
    if selector is None:
        return None
    return selector(user=user).filter(pk=pk).first()


def audit_trail_of(*, record: Model) -> list[dict]:
    """Every history row of one record, oldest first, with field changes old → new."""
    return audit_trail_window(record=record, start=0, stop=None)


def audit_trail_window(*, record: Model, start: int, stop: int | None) -> list[dict]:
    """The entries start..stop (0-based, oldest first) of a record's trail, each numbered
    (`pk`, 1 for the oldest) and compared with the row before it: the rows asked for and
    the one before the first are read, not the whole history."""
    history = record.history  # type: ignore[attr-defined]
    ordered = history.select_related("history_user").order_by("history_date", "history_id")
    first = max(0, start - 1)
    rows = list(ordered[first:stop] if stop is not None else ordered[first:])
    labels = labellers(model=type(record), rows=rows)
    entries, previous = [], None
    for number, row in enumerate(rows, start=first + 1):
        if number > start:
            entries.append({
                "at": row.history_date,
                "who": row.history_user.full_name if row.history_user else "system",
                "action": {"+": "created", "~": "changed", "-": "deleted"}[row.history_type],
                "reason": row.history_change_reason or "",
                "changes": readable_changes(newer=row, older=previous, labels=labels),
                "pk": number,
            })
        previous = row
    return entries


def audit_people_of(*, record: Model) -> list[str]:
    """The names of everyone in a record's trail ("system" for changes without a person),
    sorted: two queries, whatever the trail's length."""
    history = record.history  # type: ignore[attr-defined]
    ids = set(history.order_by().values_list("history_user_id", flat=True).distinct())
    names = {user.full_name for user in User.objects.filter(pk__in=ids - {None})}
    return sorted(names | ({"system"} if None in ids else set()))
