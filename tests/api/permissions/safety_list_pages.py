"""Permission matrix of the safety lists: a trial's adverse-event cases and the reporting
obligations across trials, with their exports. Whoever sees the trial's cases reads the list
(a site-scoped CRA: their sites' cases); sponsor viewers see safety as aggregate counts only, so
a trial they see answers 403, and the obligations list 403 too. Columns and rules:
tests/api/permissions/matrix.py."""

from tests.api.permissions.matrix import Route, page, row

# fmt: off
# Columns:                                             admin crm  cra  mon  spon out  anon
ROUTES: dict[str, Route] = {
    "safety:trial_cases": page(
        row("GET", "trial_a",                            "200  200  200  200  403  404  L"),
        row("GET", "trial_b",                            "200  404  404  404  404  403  L"),
        row("GET", "trial_a",                            "200  200  200  200  403  404  L",
            query="export=csv", note="export"),
        row("GET", "trial_b",                            "200  404  404  404  404  403  L",
            query="export=xlsx", note="export"),
        row("GET", "trial_a",                            "200  200  200  200  403  404  L",
            query="serious=maybe&onset_date_after=x", note="bad filters: the form says why"),
    ),
    "safety:obligations": page(
        row("GET", None,                                 "200  200  200  200  403  403  L"),
        row("GET", None,                                 "200  200  200  200  403  403  L",
            query="state=overdue&export=csv", note="export"),
        row("GET", None,                                 "200  200  200  200  403  403  L",
            query="export=xlsx", note="export"),
    ),
}
# fmt: on
