"""Responses to signed-in people are never stored by a browser or a proxy.

A page, an API answer, a CSV export or a calendar feed shows trial data to one person; with
`Cache-Control: no-store` the back button after log-out, a shared computer's disk cache and a
caching proxy keep none of it. Static files (served by WhiteNoise before this runs, or under
STATIC_URL by runserver) keep their long-lived caching.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


class NoStoreForAuthenticatedMiddleware:
    """`Cache-Control: no-store` (and `Pragma: no-cache`) on every authenticated response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.static_prefix = "/" + settings.STATIC_URL.lstrip("/")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self._is_private(request):
            add_never_cache_headers(response)  # no-cache, no-store, must-revalidate, private
            response["Pragma"] = "no-cache"  # HTTP/1.0 proxies
        return response

    def _is_private(self, request: HttpRequest) -> bool:
        if request.path.startswith(self.static_prefix):
            return False
        # A token client is authenticated by DRF inside the view, which sets request.user;
        # a request that carried credentials is private even when they were refused, and so
        # is the answer to a submission (the token endpoint answers with a credential).
        if request.headers.get("Authorization") or request.method not in ("GET", "HEAD"):
            return True
        user = getattr(request, "user", None)
        return bool(user is not None and user.is_authenticated)
