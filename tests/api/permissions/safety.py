"""Permission matrix of safety: adverse events (pages and API), their sponsor review with an
e-signature, and the CTCAE dictionary. Columns and rules: tests/api/permissions/matrix.py."""

from collections.abc import Callable

from tests.api.permissions.matrix import Route, api, page, row, some_fields
from tests.conftest import PASSWORD


def review(password: str) -> Callable[..., dict]:
    def body(w, target) -> dict:
        return {"password": password, "sponsor_causality": "related",
                "expectedness": "unexpected", "comment": "Matrix test review"}
    return body


# fmt: off
# Columns:                                             admin crm  cra  mon  spon out  anon
ROUTES: dict[str, Route] = {
    # ---- pages ---------------------------------------------------------------------------
    "safety:ae_detail": page(
        row("GET", "ae_a1",                              "200  200  200  200  200  404  L"),
        row("GET", "ae_a2",                              "200  200  404  200  200  404  L"),
        row("GET", "ae_b1",                              "200  404  404  404  404  200  L"),
    ),
    "safety:ae_review": page(
        row("GET", "ae_a1",                              "405  405  405  405  405  405  L"),
        row("POST", "ae_a1", review(PASSWORD),           "302  403  403  302  403  404  L"),
        row("POST", "ae_a2", review(PASSWORD),           "302  403  404  302  403  404  L"),
        row("POST", "ae_b1", review(PASSWORD),           "302  404  404  404  404  403  L"),
        row("POST", "ae_a1", review("wrong-password"),   "400  403  403  400  403  404  L",
            note="wrong e-signature password"),
    ),
    "safety:ctcae_search": page(
        row("GET", None,                                 "200  200  200  200  200  200  L",
            query="q=neutro"),
    ),
    # ---- API -----------------------------------------------------------------------------
    "api:adverse-event-list": api(
        row("GET", None,                                 "200  200  200  200  200  200  U"),
        row("POST", None, some_fields,                   "405  405  405  405  405  405  U"),
    ),
    "api:adverse-event-detail": api(
        row("GET", "ae_a1",                              "200  200  200  200  200  404  U"),
        row("GET", "ae_a2",                              "200  200  404  200  200  404  U"),
        row("GET", "ae_b1",                              "200  404  404  404  404  200  U"),
        row("PATCH", "ae_a1", some_fields,               "405  405  405  405  405  405  U"),
    ),
    "api:adverse-event-review": api(
        row("GET", "ae_a1",                              "405  405  405  405  405  405  U"),
        row("POST", "ae_a1", review(PASSWORD),           "200  403  403  200  403  404  U"),
        row("POST", "ae_a2", review(PASSWORD),           "200  403  404  200  403  404  U"),
        row("POST", "ae_b1", review(PASSWORD),           "200  404  404  404  404  403  U"),
        row("POST", "ae_a1", review("wrong-password"),   "403  403  403  403  403  404  U",
            note="wrong e-signature password"),
    ),
    "api:ctcae-term-list": api(
        row("GET", None,                                 "200  200  200  200  200  200  U",
            query="search=neutro"),
        row("POST", None, some_fields,                   "405  405  405  405  405  405  U"),
    ),
    "api:ctcae-term-detail": api(
        row("GET", "ctcae_term",                         "200  200  200  200  200  200  U"),
        row("PATCH", "ctcae_term", some_fields,          "405  405  405  405  405  405  U"),
    ),
}
# fmt: on
