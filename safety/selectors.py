from django.db.models import Q, QuerySet

from safety.models import AdverseEvent, CtcaeTerm
from sites.selectors import sites_visible_to
from trials.selectors import trial_ids_with


def adverse_events_visible_to(*, user) -> QuerySet[AdverseEvent]:
    return AdverseEvent.objects.filter(subject__site__in=sites_visible_to(user=user))


def adverse_events_reviewable_by(*, user) -> QuerySet[AdverseEvent]:
    """Events the user may medically review: the medical monitor of the event's trial."""
    if not user.is_authenticated:
        return AdverseEvent.objects.none()
    if user.is_superuser:
        return AdverseEvent.objects.all()
    return AdverseEvent.objects.filter(
        subject__trial__in=trial_ids_with(user=user, codename="review_safety")
    )


def review_queue_for(*, user) -> QuerySet[AdverseEvent]:
    """Pending reviews, serious first, oldest sponsor awareness first."""
    return (
        adverse_events_reviewable_by(user=user)
        .filter(review_status="pending")
        .select_related("subject__site__trial", "term")
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
