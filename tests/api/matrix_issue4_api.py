"""Permission-matrix entries for the REST API of trials, sites and subjects (issue 4);
merged into MATRIX by test_permission_matrix.

Columns: admin  crm  cra  monitor  sponsor  outsider  anon (see test_permission_matrix).
Trial-level records (milestones, amendments, ICF versions) are written with change_trial (the
CRM); site-level ones (documents, ICF approvals at a site, subjects) by whoever may change the
site (its CRA too); a site's status only by the CRM.
"""

from collections.abc import Callable

from django.utils import timezone

from tests.api.test_permission_matrix import Route, api, row


def today() -> str:
    return timezone.localdate().isoformat()


def on_trial(trial_attr: str, **fields) -> Callable[..., dict]:
    def body(w, target) -> dict:
        return {"trial": getattr(w, trial_attr).pk, **fields}
    return body


def on_site(site_attr: str, **fields) -> Callable[..., dict]:
    def body(w, target) -> dict:
        return {"site": getattr(w, site_attr).pk, **fields}
    return body


def fields(**values) -> Callable[..., dict]:
    def body(w, target) -> dict:
        return {name: value() if callable(value) else value for name, value in values.items()}
    return body


def site_icf(site_attr: str) -> Callable[..., dict]:
    def body(w, target) -> dict:
        return {"site": getattr(w, site_attr).pk, "consent_version": w.icf_a.pk,
                "ethics_approved_on": today(), "effective_on": today()}
    return body


def consent_to_icf_a(w, target) -> dict:
    return {"consent_version": w.icf_a.pk, "consented_on": today()}


REASON = {"change_reason": "Matrix test edit"}

# fmt: off
ENTRIES: dict[str, Route] = {
    "api:trial-transition": api(
        row("GET", "trial_a",                            "405  405  405  405  405  405  U"),
        row("POST", "trial_a", fields(status="startup", **REASON),
                                                         "200  200  403  403  403  404  U"),
        row("POST", "trial_b", fields(status="startup", **REASON),
                                                         "200  404  404  404  404  403  U"),
    ),
    "api:trial-enrollment": api(
        row("GET", "trial_a",                            "200  200  200  200  200  404  U"),
        row("GET", "trial_b",                            "200  404  404  404  404  200  U"),
        row("POST", "trial_a",                           "405  405  405  405  405  405  U"),
    ),
    "api:milestone-list": api(
        row("GET", None,                                 "200  200  200  200  200  200  U"),
        row("POST", None, on_trial("trial_a", kind="lpi", planned_date="2027-06-30"),
                                                         "201  201  403  403  403  403  U",
            note="on trial A"),
        row("POST", None, on_trial("trial_b", kind="lpi", planned_date="2027-06-30"),
                                                         "201  400  403  403  403  403  U",
            note="on trial B"),
    ),
    "api:milestone-detail": api(
        row("GET", "milestone_a",                        "200  200  200  200  200  404  U"),
        row("GET", "milestone_b",                        "200  404  404  404  404  200  U"),
        row("PATCH", "milestone_a", fields(name="", **REASON),
                                                         "200  200  403  403  403  404  U"),
        row("PATCH", "milestone_b", fields(name="", **REASON),
                                                         "200  404  404  404  404  403  U"),
        row("DELETE", "milestone_a",                     "405  405  405  405  405  405  U"),
    ),
    "api:amendment-list": api(
        row("GET", None,                                 "200  200  200  200  200  200  U"),
        row("POST", None, on_trial("trial_a", version="9.9"),
                                                         "201  201  403  403  403  403  U"),
    ),
    "api:amendment-detail": api(
        row("GET", "amendment_a",                        "200  200  200  200  200  404  U"),
        row("PATCH", "amendment_a", fields(summary="x"), "405  405  405  405  405  405  U"),
    ),
    "api:consent-version-list": api(
        row("GET", None,                                 "200  200  200  200  200  200  U"),
        row("POST", None, on_trial("trial_a", version="9.9"),
                                                         "201  201  403  403  403  403  U"),
        row("POST", None, on_trial("trial_b", version="9.9"),
                                                         "201  400  403  403  403  403  U"),
    ),
    "api:consent-version-detail": api(
        row("GET", "icf_a",                              "200  200  200  200  200  404  U"),
        row("DELETE", "icf_a",                           "405  405  405  405  405  405  U"),
    ),
    "api:site-transition": api(
        row("GET", "site_a1",                            "405  405  405  405  405  405  U"),
        row("POST", "site_a1", fields(status="on_hold", **REASON),
                                                         "200  200  403  403  403  404  U"),
        row("POST", "site_a2", fields(status="qualified", **REASON),
                                                         "200  200  404  403  403  404  U"),
        row("POST", "site_b1", fields(status="on_hold", **REASON),
                                                         "200  404  404  404  404  403  U"),
    ),
    "api:site-checklist": api(
        row("GET", "site_a1",                            "200  200  200  200  200  404  U"),
        row("GET", "site_a2",                            "200  200  404  200  200  404  U"),
        row("GET", "site_b1",                            "200  404  404  404  404  200  U"),
        row("POST", "site_a1",                           "405  405  405  405  405  405  U"),
    ),
    "api:essential-document-list": api(
        row("GET", None,                                 "200  200  200  200  200  200  U"),
        row("POST", None, on_site("site_a1", kind="insurance", status="received"),
                                                         "201  201  201  403  403  403  U",
            note="at site_a1"),
        row("POST", None, on_site("site_b1", kind="insurance", status="received"),
                                                         "201  400  400  403  403  403  U",
            note="at site_b1"),
    ),
    "api:essential-document-detail": api(
        row("GET", "document_a1",                        "200  200  200  200  200  404  U"),
        row("GET", "document_a2",                        "200  200  404  200  200  404  U"),
        row("GET", "document_b1",                        "200  404  404  404  404  200  U"),
        row("PATCH", "document_a1", fields(version="4", **REASON),
                                                         "200  200  200  403  403  404  U"),
        row("PATCH", "document_a2", fields(version="2", **REASON),
                                                         "200  200  404  403  403  404  U"),
        row("PATCH", "document_b1", fields(version="2", **REASON),
                                                         "200  404  404  404  404  403  U"),
        row("DELETE", "document_a1",                     "405  405  405  405  405  405  U"),
    ),
    "api:site-consent-version-list": api(
        row("GET", None,                                 "200  200  200  200  200  200  U"),
        row("POST", None, site_icf("site_a2"),           "201  201  400  403  403  403  U",
            note="ICF 1.0 at site_a2"),
        row("POST", None, site_icf("site_b1"),           "400  400  400  403  403  403  U",
            note="trial A's ICF at site_b1"),
    ),
    "api:site-consent-version-detail": api(
        row("GET", "site_icf_a1",                        "200  200  200  200  200  404  U"),
        row("DELETE", "site_icf_a1",                     "405  405  405  405  405  405  U"),
    ),
    "api:subject-transition": api(
        row("GET", "subject_a1",                         "405  405  405  405  405  405  U"),
        row("POST", "subject_a1", fields(status="completed", on=today),
                                                         "200  200  200  403  403  404  U"),
        row("POST", "subject_a2", fields(status="screen_failed", on=today),
                                                         "200  200  404  403  403  404  U"),
        row("POST", "subject_b1", fields(status="completed", on=today),
                                                         "200  404  404  404  404  403  U"),
    ),
    "api:subject-consent": api(
        row("GET", "subject_a1",                         "405  405  405  405  405  405  U"),
        # subject_a1 already signed ICF 1.0: allowed callers reach the service's 400.
        row("POST", "subject_a1", consent_to_icf_a,      "400  400  400  403  403  404  U"),
        row("POST", "subject_b1", consent_to_icf_a,      "400  404  404  404  404  403  U"),
    ),
    "api:consent-record-list": api(
        row("GET", None,                                 "200  200  200  200  200  200  U"),
        row("POST", None, consent_to_icf_a,              "405  405  405  405  405  405  U"),
    ),
    "api:consent-record-detail": api(
        row("GET", "consent_a1",                         "200  200  200  200  200  404  U"),
        row("DELETE", "consent_a1",                      "405  405  405  405  405  405  U"),
    ),
}
# fmt: on
