"""Permission matrix of the dashboards: the home page and the audit-trail page (and its CSV)
of every audited kind. Columns and rules: tests/api/permissions/matrix.py."""

from tests.api.permissions.matrix import Route, Row, page, row


# fmt: off
def audit_rows() -> tuple[Row, ...]:
    """The audit-trail page (and its CSV) of every audited kind, own and foreign."""
    #                                          admin crm  cra  mon  spon out  anon
    return (
        row("GET", "trial:trial_a",              "200  200  200  200  200  404  L"),
        row("GET", "trial:trial_b",              "200  404  404  404  404  200  L"),
        row("GET", "site:site_a1",               "200  200  200  200  200  404  L"),
        row("GET", "site:site_a2",               "200  200  404  200  200  404  L"),
        row("GET", "site:site_b1",               "200  404  404  404  404  200  L"),
        row("GET", "subject:subject_a1",         "200  200  200  200  200  404  L"),
        row("GET", "subject:subject_a2",         "200  200  404  200  200  404  L"),
        row("GET", "subject:subject_b1",         "200  404  404  404  404  200  L"),
        # Sponsor viewers see safety as aggregate counts only, never a case (nor its trail).
        row("GET", "adverse-event:ae_a1",        "200  200  200  200  404  404  L"),
        row("GET", "adverse-event:ae_a2",        "200  200  404  200  404  404  L"),
        row("GET", "adverse-event:ae_b1",        "200  404  404  404  404  404  L"),
        row("GET", "assignment:cra_assignment",  "200  200  200  404  404  404  L"),
        row("GET", "assignment:crm_b_assignment", "200  404  404  404  404  404  L"),
        row("GET", "assignment:outsider_assignment", "200  404  404  404  404  200  L"),
        row("GET", "milestone:milestone_a",      "200  200  200  200  200  404  L"),
        row("GET", "milestone:milestone_b",      "200  404  404  404  404  200  L"),
        row("GET", "essential-document:document_a1", "200  200  200  200  200  404  L"),
        row("GET", "essential-document:document_a2", "200  200  404  200  200  404  L"),
        row("GET", "essential-document:document_b1", "200  404  404  404  404  200  L"),
        row("GET", "consent-record:consent_a1",  "200  200  200  200  200  404  L"),
        row("GET", "amendment:amendment_a",      "200  200  200  200  200  404  L"),
        row("GET", "consent-version:icf_a",      "200  200  200  200  200  404  L"),
        row("GET", "site-consent-version:site_icf_a1", "200  200  200  200  200  404  L"),
        row("GET", "no-such-kind:trial_a",       "404  404  404  404  404  404  L"),
    )


# Columns:                                             admin crm  cra  mon  spon out  anon
ROUTES: dict[str, Route] = {
    "dashboards:home": page(
        row("GET", None,                                 "200  200  200  200  200  200  L"),
    ),
    "dashboards:audit_trail": page(
        *audit_rows(),
        #                                          admin crm  cra  mon  spon out  anon
        row("GET", "trial:trial_a",              "200  200  200  200  200  404  L",
            query="export=csv", note="export"),
        row("GET", "site:site_a2",               "200  200  404  200  200  404  L",
            query="export=xlsx", note="export"),
        row("GET", "adverse-event:ae_a1",        "200  200  200  200  404  404  L",
            query="export=csv", note="export"),
        row("GET", "adverse-event:ae_a1",        "200  200  200  200  404  404  L",
            query="field=nope&at_after=x", note="bad filters: the form says why"),
    ),
    "dashboards:audit_trail_csv": page(*audit_rows()),
}
# fmt: on
