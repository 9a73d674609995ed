"""Refuse query strings that no page or filter can use, before a view passes them on.

A NUL character in a query parameter reaches the database as a search or filter value, and
PostgreSQL refuses it with an error that would be a 500 (CTCAE search, any list filter); a
lone surrogate cannot be encoded for the database at all. Both are a clear 400 here: JSON under
/api/ (as the API's other errors), a plain page elsewhere. Form bodies are left to the forms
and serializers, whose CharFields already refuse NUL characters.
"""

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

from croportal.parsers import text_refusal


def query_refusal(request: HttpRequest) -> str | None:
    """Why the request's query string is refused, or None."""
    for name, values in request.GET.lists():
        for text in (name, *values):
            if reason := text_refusal(text):
                return f"The query parameter “{printable(name)}” is refused: {reason}"
    return None


def printable(name: str) -> str:
    """A parameter name fit to echo back: without NUL characters or surrogates."""
    return name.replace("\x00", "\\u0000").encode("utf-8", "backslashreplace").decode("utf-8")


class RefuseUnstorableQueryMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        reason = query_refusal(request)
        if reason is None:
            return self.get_response(request)
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": reason}, status=400)
        return HttpResponseBadRequest(reason, content_type="text/plain; charset=utf-8")
