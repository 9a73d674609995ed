"""Pages as their reader sees them: times on the reader's clock, each message shown once.

* ReaderTimeZoneMiddleware activates the signed-in person's own zone (their profile's
  ``timezone``, croportal.timezones.zone_of) for the request, so every page and form shows and
  reads date-times on their clock; the `moment` filter names the zone beside each one. The API
  is left on UTC (its bodies are ISO 8601 in UTC, API.md): DRF renders date-times in the active
  zone, and a token client is only known inside the view anyway.
* HtmxMessagesMiddleware: the message list is rendered once, by base.html (templates/
  _messages.html). An htmx answer that is not a whole page (a list's table after a boosted
  form or link, a partial) would leave its messages waiting for some later page, shown there out
  of context; they go with the answer instead, swapped out of band into the page's one
  ``#messages`` list. Polls (the bell) carry ``X-Portal-Poll`` and leave messages alone, so a
  message waiting for the page a redirect is loading is never taken by a poll in between.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone

from croportal.timezones import zone_of


class ReaderTimeZoneMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if request.path.startswith("/api/") or user is None or not user.is_authenticated:
            return self.get_response(request)
        timezone.activate(zone_of(user))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class HtmxMessagesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not _is_fragment(request, response):
            return response
        storage = getattr(request, "_messages", None)
        if storage is None or storage.used:
            return response
        pending = list(storage)  # marks them used: MessageMiddleware then keeps none back
        if pending:
            response.content += render_to_string(  # no request: no context processors
                "_messages.html", {"messages": pending, "out_of_band": True}
            ).encode(response.charset)
        return response


def _is_fragment(request: HttpRequest, response: HttpResponse) -> bool:
    """An htmx answer that is a fragment of HTML, not a poll, a redirect or a whole page."""
    if request.headers.get("HX-Request") != "true" or request.headers.get("X-Portal-Poll"):
        return False
    if response.status_code != 200 or response.streaming:
        return False
    if not response.get("Content-Type", "").startswith("text/html"):
        return False
    return b"<html" not in response.content[:512].lower()
