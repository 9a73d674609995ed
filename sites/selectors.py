from django.db.models import Count, Q, QuerySet

from sites.models import Site, SiteUserObjectPermission, Subject
from trials.selectors import trial_ids_with

ENROLLED_STATUSES = ("enrolled", "completed", "withdrawn")


def _site_ids_with(*, user, codename: str) -> QuerySet:
    return SiteUserObjectPermission.objects.filter(
        user=user, permission__codename=codename
    ).values("content_object_id")


def sites_visible_to(*, user) -> QuerySet[Site]:
    """Every site of a trial the user sees trial-wide, plus a site-scoped CRA's own sites."""
    if not user.is_authenticated:
        return Site.objects.none()
    if user.is_superuser:
        return Site.objects.all()
    return Site.objects.filter(
        Q(trial__in=trial_ids_with(user=user, codename="view_all_sites"))
        | Q(pk__in=_site_ids_with(user=user, codename="view_site"))
    )


def sites_changeable_by(*, user) -> QuerySet[Site]:
    if not user.is_authenticated:
        return Site.objects.none()
    if user.is_superuser:
        return Site.objects.all()
    return Site.objects.filter(
        Q(trial__in=trial_ids_with(user=user, codename="change_all_sites"))
        | Q(pk__in=_site_ids_with(user=user, codename="change_site"))
    )


def site_can_change(*, user, site: Site) -> bool:
    return sites_changeable_by(user=user).filter(pk=site.pk).exists()


def sites_with_counts(queryset: QuerySet[Site]) -> QuerySet[Site]:
    return queryset.select_related("trial").annotate(
        enrolled_count=Count("subjects", filter=Q(subjects__status__in=ENROLLED_STATUSES))
    )


def subjects_visible_to(*, user) -> QuerySet[Subject]:
    return Subject.objects.filter(site__in=sites_visible_to(user=user))


def site_records_visible_to(model, *, user) -> QuerySet:
    """Essential documents and ICF approvals: visible with their site."""
    return model.objects.filter(site__in=sites_visible_to(user=user))


def consent_records_visible_to(*, user) -> QuerySet:
    from sites.models import ConsentRecord

    return ConsentRecord.objects.filter(subject__in=subjects_visible_to(user=user))
