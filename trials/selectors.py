from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from access.checks import rows_with
from access.codenames import VIEW_TRIAL
from trials.models import Trial


def trials_visible_to(*, user) -> QuerySet[Trial]:
    return trials_with_permission(user=user, codename=VIEW_TRIAL)


def trials_with_permission(*, user, codename: str) -> QuerySet[Trial]:
    return rows_with(queryset=Trial.objects.all(), user=user, codename=codename, via="pk")


def _count_of(relation: str, **filters) -> Subquery:
    """A correlated COUNT per trial over one of its reverse relations: two of them do not
    multiply rows as joins in the outer query would (and trials imports no app above it)."""
    lookups = Q(**{f"{relation}__{name}": value for name, value in filters.items()})
    counted = (Trial.objects.filter(pk=OuterRef("pk")).order_by()
               .annotate(n=Count(relation, filter=lookups)).values("n"))
    return Subquery(counted, output_field=IntegerField())


def trials_with_counts(*, queryset: QuerySet[Trial]) -> QuerySet[Trial]:
    """Annotate enrolled subjects and active sites in the same query (bounded list cost)."""
    return queryset.select_related("sponsor").annotate(
        enrolled_count=_sum_of("sites__enrollment__enrolled_total"),
        active_sites_count=_count_of("sites", status="active"),
    )


def _sum_of(lookup: str) -> Coalesce:
    """A correlated SUM per trial, here of the enrollment its sites keep (SiteEnrollment,
    kept by the subject services): a trial's sites, not every one of its subjects."""
    summed = (Trial.objects.filter(pk=OuterRef("pk")).order_by()
              .annotate(n=Sum(lookup)).values("n"))
    return Coalesce(Subquery(summed, output_field=IntegerField()), 0)


def trial_records_visible_to(*, model, user) -> QuerySet:
    """Milestones, amendments and ICF versions: visible with their trial."""
    return model.objects.filter(trial__in=trials_visible_to(user=user))
