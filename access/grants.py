"""A person's object-permission grants, read once per request.

Every selector of a page asks which trials and sites the reader holds a codename on; read
each time, that is a query per list, card and check. During an HTTP request (the middleware
below opens the cache) the reader's trial and site grants are read in one query and kept
until the request ends; outside a request (a task, a command, a test calling a selector)
they are read each time. Whatever changes grants (staffing's permissions_sync) forgets
them, so a page never sees grants older than its own writes.
"""

from contextvars import ContextVar

from django.db.models import Value

_CACHE: ContextVar[dict | None] = ContextVar("access_grants", default=None)

TRIAL_GRANTS = "trialuserobjectpermission"
SITE_GRANTS = "siteuserobjectpermission"

Grants = tuple[dict[str, frozenset[int]], dict[str, frozenset[int]]]  # (trial ids, site ids)


def grants_of(user) -> Grants:
    """The ids of the trials and of the sites on which the user holds each codename."""
    cache = _CACHE.get()
    if cache is not None and user.pk in cache:
        return cache[user.pk]
    trials = getattr(user, f"{TRIAL_GRANTS}_set").annotate(scope=Value(0)).values_list(
        "content_object_id", "permission__codename", "scope")
    sites = getattr(user, f"{SITE_GRANTS}_set").annotate(scope=Value(1)).values_list(
        "content_object_id", "permission__codename", "scope")
    found: tuple[dict[str, set[int]], dict[str, set[int]]] = ({}, {})
    for pk, codename, scope in trials.union(sites, all=True):
        found[scope].setdefault(codename, set()).add(pk)
    held: Grants = tuple(  # type: ignore[assignment]
        {codename: frozenset(ids) for codename, ids in part.items()} for part in found)
    if cache is not None:
        cache[user.pk] = held
    return held


def forget_grants() -> None:
    """Grants changed: the request reads them again."""
    cache = _CACHE.get()
    if cache is not None:
        cache.clear()


class GrantsPerRequestMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _CACHE.set({})
        try:
            return self.get_response(request)
        finally:
            _CACHE.reset(token)
