"""Permission matrix of the project-wide routes: the health check, the Django admin, the
OpenAPI schema and its docs. Columns and rules: tests/api/permissions/matrix.py."""

from tests.api.permissions.matrix import ADMIN_KEY, Route, api, page, row

# The matrix is a table, one column per persona: keep `ruff format` out of it.
# fmt: off
# Columns:                                             admin crm  cra  mon  spon out  anon
ROUTES: dict[str, Route] = {
    "healthz": page(
        row("GET", None,                                 "200  200  200  200  200  200  200"),
        row("POST", None,                                "405  405  405  405  405  405  405"),
    ),
    ADMIN_KEY: page(
        row("GET", "/admin/",                            "200  AL   AL   AL   AL   AL   AL"),
        row("GET", "/admin/trials/trial/",               "200  AL   AL   AL   AL   AL   AL"),
    ),
    # The schema and its docs need a login (SPECTACULAR_SETTINGS["SERVE_PERMISSIONS"]).
    "schema": api(
        row("GET", None,                                 "200  200  200  200  200  200  U"),
        row("POST", None,                                "405  405  405  405  405  405  U"),
    ),
    "api_docs": api(
        row("GET", None,                                 "200  200  200  200  200  200  U"),
    ),
}
# fmt: on
