from django.db.models import Q, QuerySet

from access.checks import granted, on_trials, sites_seen
from access.codenames import REVIEW_SAFETY
from safety.models import AdverseEvent, CtcaeTerm, ReportingObligation


def adverse_events_visible_to(*, user) -> QuerySet[AdverseEvent]:
    """Cases of the sites the user sees; sponsor viewers see aggregate counts only, never a
    case (safety_counts_for)."""
    if getattr(user, "is_sponsor_user", False):
        return AdverseEvent.objects.none()
    return granted(queryset=AdverseEvent.objects.all(), user=user,
                   where=lambda: sites_seen(user=user, via="site"))


def obligations_visible_to(*, user) -> QuerySet[ReportingObligation]:
    """The reporting obligations of the cases the user sees."""
    if getattr(user, "is_sponsor_user", False):
        return ReportingObligation.objects.none()
    return granted(queryset=ReportingObligation.objects.all(), user=user,
                   where=lambda: sites_seen(user=user, via="adverse_event__site"))


def adverse_events_reviewable_by(*, user) -> QuerySet[AdverseEvent]:
    """Events the user may medically review: the medical monitor of the event's trial."""
    return granted(queryset=AdverseEvent.objects.all(), user=user, where=lambda: on_trials(
        user=user, codename=REVIEW_SAFETY, via="trial"))


def review_queue_for(*, user) -> QuerySet[AdverseEvent]:
    """Pending reviews, serious first, oldest sponsor awareness first."""
    return (
        adverse_events_reviewable_by(user=user)
        .filter(review_status="pending")
        .select_related("subject", "site", "trial", "term")
        .order_by("sponsor_awareness_at", "id")
    )


def ctcae_terms_search(*, query: str) -> QuerySet[CtcaeTerm]:
    query = (query or "").strip()
    terms = CtcaeTerm.objects.all()
    if query:
        terms = terms.filter(
            Q(term__icontains=query) | Q(meddra_code=query) | Q(soc__icontains=query)
        )
    return terms
