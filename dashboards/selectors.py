"""The read side across apps: role home pages and audit trails (reads only, through selectors)."""

from collections.abc import Callable

from django.db.models import Model, Q, QuerySet

from croportal.audit import field_changes
from reminders.selectors import deadlines_for_list, deadlines_visible_to
from safety.selectors import adverse_events_visible_to, review_queue_for
from sites.selectors import (
    sites_changeable_by,
    sites_visible_to,
    sites_with_counts,
    subjects_visible_to,
)
from staffing.models import Role, Signature
from staffing.selectors import assignments_visible_to, roles_of
from trials.selectors import trials_visible_to, trials_with_counts, trials_with_permission

AUDITED_KINDS: dict[str, Callable[..., QuerySet]] = {
    "trial": trials_visible_to,
    "site": sites_visible_to,
    "subject": subjects_visible_to,
    "adverse-event": adverse_events_visible_to,
    "assignment": assignments_visible_to,
}


def home_for(*, user) -> dict:
    """What each of the user's roles shows on the home page; a bounded number of queries."""
    roles = roles_of(user=user)
    sections: dict = {"roles": roles}
    if Role.CRM in roles:
        sections["crm_trials"] = list(
            trials_with_counts(trials_with_permission(user=user, codename="manage_staff"))
        )
    if Role.CRA in roles:
        sections["cra_sites"] = list(sites_with_counts(sites_changeable_by(user=user))[:100])
    if Role.MEDICAL_MONITOR in roles:
        sections["review_queue"] = list(review_queue_for(user=user)[:50])
    if Role.SPONSOR_VIEWER in roles:
        sections["sponsor_trials"] = list(trials_with_counts(trials_visible_to(user=user)))
    if not user.is_sponsor_user:
        sections["my_deadlines"] = list(deadlines_for_list(
            deadlines_visible_to(user=user)
            .filter(Q(owner=user) | Q(escalation_user=user), state="open"))[:8])
    return sections


def audit_record_for(*, user, kind: str, pk: int) -> Model | None:
    selector = AUDITED_KINDS.get(kind)
    if selector is None:
        return None
    return selector(user=user).filter(pk=pk).first()


def audit_trail_of(record: Model) -> list[dict]:
    """Every history row of one record, oldest first, with field changes old → new."""
    history = record.history  # type: ignore[attr-defined]
    rows = list(history.select_related("history_user").order_by("history_date", "history_id"))
    entries, previous = [], None
    for row in rows:
        entries.append({
            "at": row.history_date,
            "who": row.history_user.full_name if row.history_user else "system",
            "action": {"+": "created", "~": "changed", "-": "deleted"}[row.history_type],
            "reason": row.history_change_reason or "",
            "changes": field_changes(row, previous),
        })
        previous = row
    return entries


def signatures_of(record: Model) -> list[dict]:
    from django.contrib.contenttypes.models import ContentType

    signatures = Signature.objects.filter(
        content_type=ContentType.objects.get_for_model(record), object_id=record.pk
    ).select_related("signer")
    return [{"signature": s, "valid": s.is_valid_for(record)} for s in signatures]
