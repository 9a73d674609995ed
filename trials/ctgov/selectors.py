"""Reading registry imports: whose they are, and which ones no worker has taken."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from staffing.models import User
from trials.models import CtgovImport

State = CtgovImport.State


def ctgov_imports_visible_to(*, user: User) -> QuerySet[CtgovImport]:
    """A registry import is seen by the person who uploaded it and by administrators."""
    if not user.is_authenticated:
        return CtgovImport.objects.none()
    if user.is_superuser:
        return CtgovImport.objects.all()
    return CtgovImport.objects.filter(created_by=user)


def abandoned_before(*, now: datetime) -> datetime:
    """A run claimed before this is dead: the worker's hard time limit has killed it."""
    return now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)


def ctgov_imports_stale(*, now: datetime | None = None, limit: int = 100) -> list[int]:
    """Imports to publish again: queued but never dispatched (broker down at the confirm) or
    not taken by a worker since their last dispatch, and running ones whose worker died (past
    the task time limit). The claim makes a second message harmless."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.CTGOV_IMPORT_REDISPATCH_AFTER_SECONDS)
    stale = CtgovImport.objects.filter(
        Q(state=State.QUEUED, dispatched_at__isnull=True, updated_at__lte=cutoff)
        | Q(state__in=(State.QUEUED, State.RUNNING), dispatched_at__lte=cutoff),
    ).exclude(state=State.RUNNING, claimed_at__gt=abandoned_before(now=now))
    return list(stale.order_by("created_at").values_list("pk", flat=True)[:limit])
