"""The permission matrix (DESIGN §4, API.md): every URL pattern x every persona.

The matrix is data, one table per app in tests/api/permissions/ (staffing.py, trials.py, ...;
each declares ROUTES: route name -> rows of method, target, body and the expected outcome per
persona; the columns, outcome tokens and targets are explained in
tests/api/permissions/matrix.py). This module is the one walker over it:

* it walks the root URL resolver (pages and `/api/v1/` routes; the Django admin counts as one
  entry, "admin") and fails for any URL pattern without an entry, for an entry whose route is
  gone, and for an entry two tables declare; a namespaced page route lives in its app's table
  (`trials:...` in trials.py);
* one test per (app, persona) builds a fresh world, runs every row of the app's table as that
  persona and reports every mismatch at once. Each row runs inside a savepoint that is rolled
  back (with whatever its target or body had to create), so no write leaks into the next row;
  throttle counts are cleared before each route. API GET rows are also requested through the
  router's format-suffix variant (`.json`), which must answer the same.
"""

import importlib
import pkgutil
from types import ModuleType, SimpleNamespace

import pytest
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from tests.api import permissions
from tests.api.permissions.matrix import (
    ADMIN_KEY,
    AL,
    PERSONAS,
    L,
    Route,
    Row,
    U,
    target_object,
)

FORMAT_SUFFIX = r"\.(?P<format>[a-z0-9]+)/?$"
API_NAMESPACE = "api"


# ----------------------------------------------------------------------------- the app tables

def app_modules() -> dict[str, ModuleType]:
    """Every module of tests.api.permissions but the shared vocabulary: app name -> module."""
    return {
        info.name: importlib.import_module(f"{permissions.__name__}.{info.name}")
        for info in pkgutil.iter_modules(permissions.__path__)
        if info.name != "matrix"
    }


APPS = app_modules()
TABLES: dict[str, dict[str, Route]] = {app: module.ROUTES for app, module in APPS.items()}
MATRIX: dict[str, Route] = {key: route for table in TABLES.values() for key, route in table.items()}


def test_every_app_table_declares_routes():
    assert {"croportal", "staffing", "trials", "sites", "safety", "reminders", "dashboards",
            "ctgov"} <= set(TABLES), f"app tables found: {sorted(TABLES)}"
    empty = [app for app, table in TABLES.items() if not table]
    assert not empty, f"app tables without routes: {empty}"


def test_no_route_is_declared_by_two_apps():
    owners: dict[str, list[str]] = {}
    for app, table in TABLES.items():
        for key in table:
            owners.setdefault(key, []).append(app)
    repeated = {key: apps for key, apps in owners.items() if len(apps) > 1}
    assert not repeated, f"routes declared by more than one app table: {repeated}"


def test_a_namespaced_page_route_lives_in_its_apps_table():
    """`safety:…` rows live in safety.py or in a part of it named safety_<part>.py."""
    misplaced = [
        f"{key} in {app}.py"
        for app, table in TABLES.items() for key in table
        if ":" in key and key.split(":", 1)[0] not in {API_NAMESPACE, app.split("_")[0]}
    ]
    assert not misplaced, f"page routes outside their app's table: {misplaced}"


# ------------------------------------------------------------------------- route enumeration

def _is_static_serving(pattern: URLPattern) -> bool:
    module = getattr(pattern.callback, "__module__", "")
    return module in {"django.views.static", "django.contrib.staticfiles.views"}


def enumerate_routes() -> list[tuple[str, str]]:
    """(full pattern, matrix key) of every URL pattern. The key is the namespaced route name
    (a pattern without a name is keyed by its pattern, so it can never match an entry);
    everything under the admin's include is the one key "admin"; DRF's format-suffix variants
    share their base route's name and so its entry."""
    found: list[tuple[str, str]] = []

    def walk(resolver: URLResolver, prefix: str, namespace: str | None) -> None:
        for pattern in resolver.url_patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                if pattern.app_name == "admin":  # the Django admin site: one entry
                    found.append((route, ADMIN_KEY))
                    continue
                inner = namespace
                if pattern.namespace:
                    inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                walk(pattern, route, inner)
            elif not _is_static_serving(pattern):
                name = pattern.name
                key = (f"{namespace}:{name}" if namespace else name) if name else route
                found.append((route, key))

    walk(get_resolver(), "", None)
    return found


def test_every_route_has_exactly_one_matrix_entry():
    routes = enumerate_routes()
    enumerated = {key for _, key in routes}
    missing = sorted(f"{key}  ({route})" for route, key in routes if key not in MATRIX)
    stale = sorted(set(MATRIX) - enumerated)
    assert not missing, (
        "URL patterns without a permission-matrix entry (add rows to the app's table in "
        "tests/api/permissions/):\n" + "\n".join(missing)
    )
    assert not stale, f"matrix entries for routes that no longer exist: {stale}"
    # The walk really saw the portal: pages, the API router and the admin.
    assert {"trials:detail", "api:trial-detail", "api:assignment-end", ADMIN_KEY} <= enumerated


def test_format_suffix_variants_share_their_base_routes_entry():
    routes = enumerate_routes()
    suffixed = [(route, key) for route, key in routes if route.endswith(FORMAT_SUFFIX)]
    assert suffixed, "expected DefaultRouter's format-suffix patterns"
    plain = {key for route, key in routes if not route.endswith(FORMAT_SUFFIX)}
    orphans = [route for route, key in suffixed if key not in plain]
    assert not orphans, f"format-suffix patterns without a base route: {orphans}"


# ---------------------------------------------------------------------------- running a row

def clear_throttles() -> None:
    """The token endpoint is throttled per caller in the default (local-memory) cache."""
    if "LocMemCache" in settings.CACHES["default"]["BACKEND"]:
        cache.clear()


def url_of(key: str, target: str | None, w: SimpleNamespace, *, fmt: str | None = None) -> str:
    if target is not None and target.startswith("/"):
        return target
    kwargs: dict = {}
    if target is not None and ":" in target:
        kind, attr = target.split(":", 1)
        kwargs = {"kind": kind, "pk": target_object(w, attr).pk}
    elif target is not None:
        kwargs = {"pk": target_object(w, target).pk}
    if fmt:
        kwargs["format"] = fmt
    return reverse(key, kwargs=kwargs)


def client_for(route: Route, persona: str, w: SimpleNamespace) -> Client:
    client: Client = APIClient() if route.api else Client()
    client.raise_request_exception = False
    if persona != "anon":
        user = getattr(w, persona)
        if route.api:
            client.force_authenticate(user)
        else:
            client.force_login(user)
    return client


def send(client: Client, route: Route, row_: Row, url: str, w: SimpleNamespace):
    body = row_.body(w, row_.target) if row_.body else None
    if row_.query:
        url = f"{url}?{row_.query}"
    method = getattr(client, row_.method.lower())
    if row_.method == "GET":
        return method(url)
    if route.api:
        return method(url, body or {}, format="json")
    if row_.method == "POST":
        return method(url, body or {})
    return method(url)


def outcome_of(response) -> str:
    location = response.headers.get("Location")
    if location:
        return f"{response.status_code} → {location}"
    if response.status_code in {400, 500} and "json" in response.get("Content-Type", ""):
        return f"{response.status_code} {response.content.decode()[:200]}"
    return str(response.status_code)


def meets(expected, response) -> bool:
    status, location = response.status_code, response.headers.get("Location", "")
    if expected == L:
        return status == 302 and location.startswith(
            redirect_to_login("/").url.split("?")[0] + "?next="
        )
    if expected == AL:
        return status == 302 and location.startswith(reverse("admin:login") + "?next=")
    if expected == U:
        return status == 401 and "WWW-Authenticate" in response.headers
    return status == expected


def describe(expected) -> str:
    return {L: "302 → login page", AL: "302 → admin login", U: "401 with WWW-Authenticate"}.get(
        expected, str(expected)
    )


def run_row(key: str, route: Route, row_: Row, persona: str, w, *, fmt=None) -> str | None:
    """One request, rolled back with everything it made; None when it meets the matrix, else a
    line naming everything involved."""
    expected = row_.expected[PERSONAS.index(persona)]
    on = f" on {row_.target}" if row_.target else ""
    note = f" ({row_.note})" if row_.note else ""
    try:
        with transaction.atomic():
            url = url_of(key, row_.target, w, fmt=fmt)
            response = send(client_for(route, persona, w), route, row_, url, w)
            transaction.set_rollback(True)
    except Exception as error:  # a broken target or body: report it with the other rows
        return f"{key}: {row_.method} as {persona}{on}{note}: raised {error!r}"
    if meets(expected, response):
        return None
    return (f"{key}: {row_.method} {url} as {persona}{on}{note}: "
            f"expected {describe(expected)}, got {outcome_of(response)}")


def has_format_variant(key: str) -> bool:
    try:
        reverse(key, kwargs={"format": "json"})
    except NoReverseMatch:
        try:
            reverse(key, kwargs={"pk": 1, "format": "json"})
        except NoReverseMatch:
            return False
    return True


def requests_of(key: str, route: Route) -> list[tuple[Row, str | None]]:
    """(row, format suffix) of every request a route's rows make for one persona."""
    suffixed = route.api and has_format_variant(key)
    return [
        (row_, fmt)
        for row_ in route.rows
        for fmt in ([None, "json"] if suffixed and row_.method == "GET" else [None])
    ]


@pytest.mark.parametrize(
    ("app", "persona"),
    [(app, persona) for app in TABLES for persona in PERSONAS],
    ids=[f"{app}-{persona}" for app in TABLES for persona in PERSONAS],
)
def test_permission_matrix(world, app, persona):
    problems, requests = [], 0
    for key, route in TABLES[app].items():
        clear_throttles()
        for row_, fmt in requests_of(key, route):
            requests += 1
            problem = run_row(key, route, row_, persona, world, fmt=fmt)
            if problem:
                problems.append(problem)
    assert requests, f"{app}: no requests for {persona}"
    assert not problems, (
        f"{len(problems)} of {requests} requests of the {app} table break the permission "
        f"matrix as {persona}:\n" + "\n".join(problems)
    )
