"""Named permission checks and the visibility building blocks every selector is made of.

The object-permission rows (django-guardian's direct-FK tables of trials and sites) are reached
through the user's reverse relations, so this layer imports no app: it works on the relation
names below and on the lookups a caller passes (``via="subject__site__trial"``).
The selector preamble — anonymous sees nothing, a superuser everything — is written once, in
:func:`granted`.
"""

from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from access.codenames import (
    ADD_TRIAL_PERM,
    CHANGE_ALL_SITES,
    CHANGE_SITE,
    CHANGE_TRIAL,
    MANAGE_STAFF,
    REPORT_SAFETY,
    REPORT_SITE_SAFETY,
    REVIEW_SAFETY,
    VIEW_ALL_SITES,
    VIEW_SITE,
    VIEW_TRIAL,
)
from access.grants import SITE_GRANTS, TRIAL_GRANTS, grants_of
from access.roles import EVERY_TRIAL_CODENAME


def granted(*, queryset: QuerySet, user, where: Callable[[], Q]) -> QuerySet:
    """The preamble of every selector: none for the anonymous, all for a superuser, otherwise
    the rows ``where()`` grants (called only for a signed-in, ordinary user)."""
    if not user.is_authenticated:
        return queryset.none()
    if user.is_superuser:
        return queryset
    return queryset.filter(where())


def trial_ids_with(*, user, codename: str) -> QuerySet:
    """Subquery of the ids of the trials on which the user holds ``codename``."""
    return getattr(user, f"{TRIAL_GRANTS}_set").filter(
        permission__codename=codename).values("content_object_id")


def trial_ids_held(*, user, codenames: tuple[str, ...]) -> dict[str, list[int]]:
    """The ids of the trials on which the user holds each codename, as lists (read once per
    request: access.grants). A literal list lets the database combine scopes with OR through
    their indexes (a bitmap of each), where an OR of subqueries reads every row."""
    trials, _ = grants_of(user)
    return {codename: sorted(trials.get(codename, ())) for codename in codenames}


def on_trials_held(*, user, codename: str, via: str = "trial_id") -> Q:
    """on_trials with the trials read first (once per request) as a literal list, for the
    lists whose order an index serves: the database walks that index filtering on the list
    instead of joining every row to a subquery."""
    return Q(**{f"{via}__in": trial_ids_held(user=user, codenames=(codename,))[codename]})


def on_trials(*, user, codename: str, via: str = "trial") -> Q:
    """Rows whose trial (reached by the lookup ``via``; ``"pk"`` for trials themselves) the
    user holds ``codename`` on."""
    return Q(**{f"{via}__in": trial_ids_with(user=user, codename=codename)})


def on_sites(*, user, trial_codename: str, site_codename: str, via: str = "site",
             trial_via: str | None = None) -> Q:
    """Rows of a site the user holds trial-wide (``trial_codename`` on its trial) or as a
    site-scoped CRA (``site_codename`` on the site itself). ``trial_via`` names the row's own
    trial column when it has one (a copy of its site's trial), which spares a join. The trials
    and sites are read first, in one query, so that each branch of the OR is an index the
    database combines (an empty one drops out) instead of a filter on every row."""
    trial = trial_via or ("trial" if via == "pk" else f"{via}__trial")
    trials, sites = grants_of(user)
    held = (sorted(trials.get(trial_codename, ())), sorted(sites.get(site_codename, ())))
    branches = [Q(**{f"{lookup}__in": ids}) for lookup, ids in ((trial, held[0]), (via, held[1]))
                if ids]  # an empty one would still join its tables
    if not branches:
        return Q(pk__in=[])
    return branches[0] if len(branches) == 1 else branches[0] | branches[1]


def sites_seen(*, user, via: str = "site", trial_via: str | None = None) -> Q:
    return on_sites(user=user, trial_codename=VIEW_ALL_SITES, site_codename=VIEW_SITE, via=via,
                    trial_via=trial_via)


def sites_changed(*, user, via: str = "site") -> Q:
    return on_sites(user=user, trial_codename=CHANGE_ALL_SITES, site_codename=CHANGE_SITE,
                    via=via)


def sites_reporting_safety(*, user, via: str = "site") -> Q:
    """Sites where the user enters adverse events: the trial's CRAs and medical monitor, a
    site-scoped CRA at their site; never a sponsor viewer (nor, by role, a CRM)."""
    return on_sites(user=user, trial_codename=REPORT_SAFETY, site_codename=REPORT_SITE_SAFETY,
                    via=via)


def may_report_adverse_events(*, user, site) -> bool:
    if not user.is_authenticated or user.is_sponsor_user:
        return False
    if user.is_superuser:
        return True
    return type(site)._default_manager.filter(
        sites_reporting_safety(user=user, via="pk"), pk=site.pk).exists()


def holds(*, user, trial, codename: str) -> bool:
    """Whether the user holds ``codename`` on one trial (a superuser holds everything)."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return getattr(trial, "pk", trial) in grants_of(user)[0].get(codename, ())


def codenames_on(*, user, trial) -> frozenset[str]:
    """Every trial-level codename the user holds on one trial (access.grants: once a request)."""
    if not user.is_authenticated:
        return frozenset()
    if user.is_superuser:
        return EVERY_TRIAL_CODENAME
    pk = getattr(trial, "pk", trial)
    return frozenset(codename for codename, ids in grants_of(user)[0].items() if pk in ids)


def holders_of(*, codename: str, trial) -> QuerySet:
    """The people who hold ``codename`` on a trial (``trial`` may be an OuterRef)."""
    return get_user_model().objects.filter(**{
        f"{TRIAL_GRANTS}__content_object_id": getattr(trial, "pk", trial),
        f"{TRIAL_GRANTS}__permission__codename": codename,
    })


# ------------------------------------------------------------------------ named checks (bool)

def may_view_trial(*, user, trial) -> bool:
    return holds(user=user, trial=trial, codename=VIEW_TRIAL)


def may_change_trial(*, user, trial) -> bool:
    """The trial's own records and site status (activation, closure): its CRM."""
    return holds(user=user, trial=trial, codename=CHANGE_TRIAL)


def may_manage_staff(*, user, trial) -> bool:
    """Assign and end staff, set others' deadlines: the trial's CRM."""
    return holds(user=user, trial=trial, codename=MANAGE_STAFF)


def may_review_safety(*, user, trial) -> bool:
    return holds(user=user, trial=trial, codename=REVIEW_SAFETY)


def may_change_site_status(*, user, site) -> bool:
    """A site's lifecycle and its essential-document review belong to the trial's CRM."""
    return may_change_trial(user=user, trial=site.trial_id)


def may_create_trials(*, user) -> bool:
    return bool(user.is_authenticated and not user.is_sponsor_user
                and (user.is_superuser or user.has_perm(ADD_TRIAL_PERM)))


def manages_any_trial(*, user) -> bool:
    return bool(user.is_authenticated and (
        user.is_superuser or trial_ids_with(user=user, codename=MANAGE_STAFF).exists()))


def changes_any_trial(*, user) -> bool:
    return bool(user.is_authenticated and (
        user.is_superuser or trial_ids_with(user=user, codename=CHANGE_TRIAL).exists()))


def people_on_trials_where(*, user, codename: str) -> QuerySet:
    """Subquery of the ids of the people working now (holding view on it) on a trial where
    ``user`` holds ``codename`` — e.g. the team of the trials a CRM manages."""
    return get_user_model().objects.filter(**{
        f"{TRIAL_GRANTS}__content_object_id__in": trial_ids_with(user=user, codename=codename),
        f"{TRIAL_GRANTS}__permission__codename": VIEW_TRIAL,
    }).values("pk")


def grant_tables() -> tuple:
    """(trial, site) object-permission tables, reached through the user's relations; only the
    assignment services write them."""
    meta = get_user_model()._meta
    return meta.get_field(TRIAL_GRANTS).related_model, meta.get_field(SITE_GRANTS).related_model


def rows_with(*, queryset: QuerySet, user, codename: str, via: str = "trial") -> QuerySet:
    """The rows of ``queryset`` on whose trial the user holds ``codename`` (with the preamble);
    ``via="pk"`` for a queryset of trials."""
    return granted(queryset=queryset, user=user,
                   where=lambda: on_trials(user=user, codename=codename, via=via))


def rows_held(*, queryset: QuerySet, user, codename: str, via: str = "trial_id") -> QuerySet:
    """rows_with through on_trials_held (the trials as a literal list), with the preamble."""
    return granted(queryset=queryset, user=user,
                   where=lambda: on_trials_held(user=user, codename=codename, via=via))
