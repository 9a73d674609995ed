from datetime import date

from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce

from access.checks import granted, sites_changed, sites_seen
from sites.models import ConsentRecord, Site, SiteConsentVersion, Subject

ENROLLED_STATUSES = ("enrolled", "completed", "withdrawn")


def sites_visible_to(*, user) -> QuerySet[Site]:
    """Every site of a trial the user sees trial-wide, plus a site-scoped CRA's own sites."""
    return granted(queryset=Site.objects.all(), user=user,
                   where=lambda: sites_seen(user=user, via="pk"))


def sites_changeable_by(*, user) -> QuerySet[Site]:
    return granted(queryset=Site.objects.all(), user=user,
                   where=lambda: sites_changed(user=user, via="pk"))


def site_can_change(*, user, site: Site) -> bool:
    return sites_changeable_by(user=user).filter(pk=site.pk).exists()


def sites_with_counts(*, queryset: QuerySet[Site]) -> QuerySet[Site]:
    """Each site with its enrolled count as the subject services keep it (SiteEnrollment)."""
    return queryset.select_related("trial").annotate(
        enrolled_count=Coalesce(F("enrollment__enrolled_total"), 0))


def subjects_visible_to(*, user) -> QuerySet[Subject]:
    return Subject.objects.filter(site__in=sites_visible_to(user=user))


def site_records_visible_to(*, model, user) -> QuerySet:
    """Essential documents and ICF approvals: visible with their site."""
    return model.objects.filter(site__in=sites_visible_to(user=user))


def consent_records_visible_to(*, user) -> QuerySet:
    return ConsentRecord.objects.filter(subject__in=subjects_visible_to(user=user))


def consent_versions_effective_at(*, site: Site, day: date) -> QuerySet[SiteConsentVersion]:
    return SiteConsentVersion.objects.filter(site=site, effective_on__lte=day)
