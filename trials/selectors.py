from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from trials.models import Trial, TrialUserObjectPermission


def trial_ids_with(*, user, codename: str) -> QuerySet:
    """Subquery of trial ids on which the user holds an object permission."""
    return TrialUserObjectPermission.objects.filter(
        user=user, permission__codename=codename
    ).values("content_object_id")


def trials_visible_to(*, user) -> QuerySet[Trial]:
    if not user.is_authenticated:
        return Trial.objects.none()
    if user.is_superuser:
        return Trial.objects.all()
    return Trial.objects.filter(pk__in=trial_ids_with(user=user, codename="view_trial"))


def trials_with_permission(*, user, codename: str) -> QuerySet[Trial]:
    if not user.is_authenticated:
        return Trial.objects.none()
    if user.is_superuser:
        return Trial.objects.all()
    return Trial.objects.filter(pk__in=trial_ids_with(user=user, codename=codename))


def trial_has_permission(*, user, trial: Trial, codename: str) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return TrialUserObjectPermission.objects.filter(
        user=user, content_object=trial, permission__codename=codename
    ).exists()


def trial_permissions_of(*, user, trial: Trial) -> set[str]:
    """All trial-level codenames the user holds on one trial (one query)."""
    if user.is_superuser:
        return {"view_trial", "change_trial", "view_all_sites", "change_all_sites",
                "manage_staff", "review_safety"}
    return set(
        TrialUserObjectPermission.objects.filter(user=user, content_object=trial)
        .values_list("permission__codename", flat=True)
    )


def _count_of(model_label: str, **filters) -> Coalesce:
    """A correlated COUNT(*) subquery per trial: two of them do not multiply rows as joins do."""
    from django.apps import apps

    model = apps.get_model(model_label)
    counted = (model.objects.filter(trial=OuterRef("pk"), **filters).order_by()
               .values("trial").annotate(n=Count("pk")).values("n"))
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def trials_with_counts(queryset: QuerySet[Trial]) -> QuerySet[Trial]:
    """Annotate enrolled subjects and active sites in the same query (bounded list cost)."""
    return queryset.select_related("sponsor").annotate(
        enrolled_count=_count_of("sites.Subject",
                                 status__in=["enrolled", "completed", "withdrawn"]),
        active_sites_count=_count_of("sites.Site", status="active"),
    )


def user_can_create_trials(*, user) -> bool:
    return bool(
        user.is_authenticated
        and not user.is_sponsor_user
        and (user.is_superuser or user.has_perm("trials.add_trial"))
    )


def trial_records_visible_to(model, *, user) -> QuerySet:
    """Milestones, amendments and ICF versions: visible with their trial."""
    return model.objects.filter(trial__in=trials_visible_to(user=user))
