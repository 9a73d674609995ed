"""Permission matrix of the medical monitor's queue and a trial's safety page. The queue is
for whoever reviews safety on some trial (trial A's medical monitor) and administrators: a CRM,
a CRA and sponsor viewers get a 403; a bad filter is a 400 for those who have a queue. The
safety page is for everyone who sees the trial, sponsor viewers as aggregate counts only.
Columns and rules: tests/api/permissions/matrix.py."""

from tests.api.permissions.matrix import Route, page, row

# fmt: off
# Columns:                                             admin crm  cra  mon  spon out  anon
ROUTES: dict[str, Route] = {
    "safety:queue": page(
        row("GET", None,                                 "200  403  403  200  403  403  L"),
        row("GET", None,                                 "200  403  403  200  403  403  L",
            query="state=overdue"),
        row("GET", None,                                 "400  403  403  400  403  403  L",
            query="state=late", note="a state that does not exist"),
        row("GET", None,                                 "400  403  403  400  403  403  L",
            query="trial=abc", note="a trial that is not a number"),
        row("GET", None,                                 "400  403  403  400  403  403  L",
            query="sate=open", note="a misspelt filter"),
        row("GET", None,                                 "200  403  403  200  403  403  L",
            query="list=cases&export=csv", note="export"),
        row("GET", None,                                 "200  403  403  200  403  403  L",
            query="list=obligations&state=submitted&export=xlsx", note="export"),
        row("GET", None,                                 "400  403  403  400  403  403  L",
            query="list=nope&export=csv", note="an export of no list"),
    ),
    "safety:trial_safety": page(
        row("GET", "trial_a",                            "200  200  200  200  200  404  L"),
        row("GET", "trial_b",                            "200  404  404  404  404  200  L"),
    ),
}
# fmt: on
