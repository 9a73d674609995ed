"""Permission matrix of sites: the site pages (detail, edit, lifecycle, documents, ICF
approvals, subjects and their consent) and the REST API of sites, subjects, essential
documents, ICF approvals at a site and consent records. Columns and rules:
tests/api/permissions/matrix.py.

Site-level writes need the site to be changeable (the CRM, the CRA of site_a1); a site's status
needs change_trial on its trial (the CRM). A form the service refuses is re-rendered (200).
"""

from collections.abc import Callable
from datetime import timedelta

from django.forms.models import model_to_dict
from django.utils import timezone

from sites.forms import SiteForm
from sites.services import site_consent_version_add
from tests.api.permissions.matrix import (
    REASON,
    Route,
    api,
    fields,
    on_site,
    page,
    post_only,
    row,
    some_fields,
    status_form,
    target_object,
    today,
)
from trials.services import consent_version_create

# ------------------------------------------------------------------------------- page forms

def site_form(w, target: str) -> dict:
    site = target_object(w, target)
    data = model_to_dict(site, fields=SiteForm.Meta.fields)
    data = {name: "" if value is None else value for name, value in data.items()}
    return {**data, "city": "Edited City", "change_reason": "Matrix test edit"}


def document_form(expires_on: str = "2027-06-01", reason: str = "",
                  status: str = "received") -> Callable[..., dict]:
    """A filed document (received); an edit of an approved one keeps it approved."""
    def body(w, target) -> dict:
        data = {"kind": "delegation_log", "version": "9", "effective_on": "2026-06-01",
                "expires_on": expires_on, "status": status}
        return {**data, "change_reason": reason} if reason else data
    return body


def site_icf_form(fresh: bool) -> Callable[..., dict]:
    """An ICF version's approval at the site: a version made for the row (rolled back with it),
    or trial A's ICF 1.0 (already recorded at site_a1, not at site_a2)."""
    def body(w, target) -> dict:
        cv = (consent_version_create(trial=w.trial_a, by=w.admin, version="M-9") if fresh
              else w.icf_a)
        return {"consent_version": cv.pk, "ethics_approved_on": "2026-06-01",
                "effective_on": "2026-06-10"}
    return body


def screen_form(number: str) -> Callable[..., dict]:
    def body(w, target) -> dict:
        return {"number": number, "consent_version": w.icf_a.pk, "consented_on": "2026-06-01"}
    return body


def subject_status_form(to: str, withdrawal_reason: str = "") -> Callable[..., dict]:
    def body(w, target) -> dict:
        return {"to": to, "on": today(), "withdrawal_reason": withdrawal_reason}
    return body


def reconsent_form(fresh: bool) -> Callable[..., dict]:
    """Consent to a version newly effective at site_a1 (made for the row), or to ICF 1.0 that
    subject_a1 already signed (refused)."""
    def body(w, target) -> dict:
        cv = w.icf_a
        if fresh:
            cv = consent_version_create(trial=w.trial_a, by=w.admin, version="M-10")
            approved = timezone.localdate() - timedelta(days=5)
            site_consent_version_add(site=w.site_a1, consent_version=cv, by=w.admin,
                                     ethics_approved_on=approved, effective_on=approved)
        return {"consent_version": cv.pk, "consented_on": today()}
    return body


# ------------------------------------------------------------------------------- API bodies

def new_site(trial_attr: str) -> Callable[..., dict]:
    def body(w, target) -> dict:
        return {"trial": getattr(w, trial_attr).pk, "number": "909", "institution": "Matrix",
                "country": "DE"}
    return body


def put_site(w, target) -> dict:
    site = target_object(w, target)
    data = model_to_dict(site, fields=("trial", *SiteForm.Meta.fields))
    return {**data, "city": "Replaced City", "change_reason": "Matrix test edit"}


def patch_city(w, target) -> dict:
    return {"city": "Edited City", "change_reason": "Matrix test edit"}


def screen_subject(site_attr: str) -> Callable[..., dict]:
    def body(w, target) -> dict:
        site = getattr(w, site_attr)
        version = w.icf_a if site.trial_id == w.trial_a.pk else None
        return {"site": site.pk, "number": f"{site.number}-077",
                "consent_version": version.pk if version else w.icf_a.pk,
                "consented_on": timezone.localdate().isoformat()}
    return body


def site_icf_approval(site_attr: str) -> Callable[..., dict]:
    def body(w, target) -> dict:
        return {"site": getattr(w, site_attr).pk, "consent_version": w.icf_a.pk,
                "ethics_approved_on": today(), "effective_on": today()}
    return body


def consent_to_icf_a(w, target) -> dict:
    return {"consent_version": w.icf_a.pk, "consented_on": today()}


# fmt: off
# Columns:                                                     admin crm  cra  mon  spon out  anon
ROUTES: dict[str, Route] = {
    # ---- pages ---------------------------------------------------------------------------
    "sites:detail": page(
        row("GET", "site_a1",                                    "200  200  200  200  200  404  L"),
        row("GET", "site_a2",                                    "200  200  404  200  200  404  L"),
        row("GET", "site_b1",                                    "200  404  404  404  404  200  L"),
    ),
    "sites:subjects": page(
        row("GET", "site_a1",                                    "200  200  200  200  200  404  L"),
        row("GET", "site_a2",                                    "200  200  404  200  200  404  L"),
        row("GET", "site_b1",                                    "200  404  404  404  404  200  L"),
        row("GET", "site_a2",                                    "200  200  404  200  200  404  L",
            query="export=csv", note="export"),
        row("GET", "site_b1",                                    "200  404  404  404  404  200  L",
            query="export=xlsx", note="export"),
    ),
    "sites:documents": page(
        row("GET", "site_a1",                                    "200  200  200  200  200  404  L"),
        row("GET", "site_a2",                                    "200  200  404  200  200  404  L"),
        row("GET", "site_b1",                                    "200  404  404  404  404  200  L"),
        row("GET", "site_a2",                                    "200  200  404  200  200  404  L",
            query="export=csv", note="export"),
        row("GET", "site_b1",                                    "200  404  404  404  404  200  L",
            query="export=xlsx", note="export"),
    ),
    "sites:edit": page(
        row("GET", "site_a1",                                    "200  200  200  403  403  404  L"),
        row("GET", "site_a2",                                    "200  200  404  403  403  404  L"),
        row("GET", "site_b1",                                    "200  404  404  404  404  403  L"),
        row("POST", "site_a1", site_form,                        "302  302  302  403  403  404  L"),
        row("POST", "site_a2", site_form,                        "302  302  404  403  403  404  L"),
        row("POST", "site_b1", site_form,                        "302  404  404  404  404  403  L"),
    ),
    "sites:transition": page(
        post_only("site_a1"),
        row("POST", "site_a1", status_form("on_hold"),           "302  302  403  403  403  404  L"),
        row("POST", "site_a2", status_form("qualified"),         "302  302  404  403  403  404  L"),
        row("POST", "site_b1", status_form("on_hold"),           "302  404  404  404  404  403  L"),
        row("POST", "site_a2", status_form("active"),            "200  200  404  403  403  404  L",
            note="refused: not initiated, checklist incomplete"),
    ),
    "sites:document_create": page(
        post_only("site_a1"),
        row("POST", "site_a1", document_form(),                  "302  302  302  403  403  404  L"),
        row("POST", "site_a2", document_form(),                  "302  302  404  403  403  404  L"),
        row("POST", "site_b1", document_form(),                  "302  404  404  404  404  403  L"),
        row("POST", "site_a1", document_form(expires_on="2026-01-01"),
                                                                 "200  200  200  403  403  404  L",
            note="expires before it takes effect"),
    ),
    "sites:document_file": page(
        row("GET", "document_file_a1",                           "200  200  200  200  200  404  L"),
        row("GET", "document_file_a2",                           "200  200  404  200  200  404  L"),
        row("GET", "document_file_b1",                           "200  404  404  404  404  200  L"),
        row("GET", "document_a1",                                "404  404  404  404  404  404  L",
            note="a document without a file"),
    ),
    "sites:document_edit": page(
        row("GET", "document_a1",                                "200  200  200  403  403  404  L"),
        row("POST", "document_a1", document_form(reason="Matrix test edit", status="approved"),
                                                                 "302  302  302  403  403  404  L"),
        row("POST", "document_a1", document_form(),              "200  200  200  403  403  404  L",
            note="no reason"),
        row("GET", "document_b1",                                "200  404  404  404  404  403  L"),
        row("POST", "document_b1", document_form(reason="Matrix test edit", status="approved"),
                                                                 "302  404  404  404  404  403  L"),
        row("GET", "/sites/documents/999999/edit/",              "404  404  404  404  404  404  L",
            note="no such document"),
    ),
    "sites:consent_version_add": page(
        post_only("site_a1"),
        row("POST", "site_a1", site_icf_form(fresh=True),        "302  302  302  403  403  404  L"),
        row("POST", "site_a2", site_icf_form(fresh=False),       "302  302  404  403  403  404  L"),
        row("POST", "site_b1", site_icf_form(fresh=False),       "200  404  404  404  404  403  L",
            note="trial A's ICF is no choice at trial B's site"),
        row("POST", "site_a1", site_icf_form(fresh=False),       "200  200  200  403  403  404  L",
            note="already recorded at the site"),
    ),
    "sites:subject_screen": page(
        post_only("site_a1"),
        row("POST", "site_a1", screen_form("101-777"),           "302  302  302  403  403  404  L"),
        row("POST", "site_a2", screen_form("102-777"),           "200  200  404  403  403  404  L",
            note="site not active, no ICF in effect"),
        row("POST", "site_b1", screen_form("201-777"),           "200  404  404  404  404  403  L",
            note="no ICF in effect at the site"),
        row("POST", "site_a1", screen_form("John Smith"),        "200  200  200  403  403  404  L",
            note="not a pseudonymous number"),
    ),
    "sites:subject_transition": page(
        post_only("subject_a1"),
        row("POST", "subject_a1", subject_status_form("completed"),
                                                                 "302  302  302  403  403  404  L"),
        row("POST", "subject_a2", subject_status_form("screen_failed"),
                                                                 "302  302  404  403  403  404  L"),
        row("POST", "subject_b1", subject_status_form("completed"),
                                                                 "302  404  404  404  404  403  L"),
        row("POST", "subject_a1", subject_status_form("withdrawn"),
                                                                 "200  200  200  403  403  404  L",
            note="withdrawal without a reason"),
    ),
    "sites:subject_consent": page(
        post_only("subject_a1"),
        row("POST", "subject_a1", reconsent_form(fresh=True),    "302  302  302  403  403  404  L"),
        row("POST", "subject_a1", reconsent_form(fresh=False),   "200  200  200  403  403  404  L",
            note="already signed that version"),
        row("POST", "subject_a2", reconsent_form(fresh=False),   "200  200  404  403  403  404  L",
            note="no ICF in effect at the site"),
        row("POST", "subject_b1", reconsent_form(fresh=False),   "200  404  404  404  404  403  L",
            note="no ICF in effect at the site"),
    ),
    # ---- API: sites ----------------------------------------------------------------------
    "api:site-list": api(
        row("GET", None,                                         "200  200  200  200  200  200  U"),
        row("POST", None, new_site("trial_a"),                   "201  201  403  403  403  403  U",
            note="new site on trial A"),
        # A foreign trial in the body is an invalid choice (400), it does not exist for them.
        row("POST", None, new_site("trial_b"),                   "201  400  403  403  403  403  U",
            note="new site on trial B"),
    ),
    "api:site-detail": api(
        row("GET", "site_a1",                                    "200  200  200  200  200  404  U"),
        row("GET", "site_a2",                                    "200  200  404  200  200  404  U"),
        row("GET", "site_b1",                                    "200  404  404  404  404  200  U"),
        row("PATCH", "site_a1", patch_city,                      "200  200  200  403  403  404  U"),
        row("PATCH", "site_a2", patch_city,                      "200  200  404  403  403  404  U"),
        row("PATCH", "site_b1", patch_city,                      "200  404  404  404  404  403  U"),
        row("PUT", "site_a1", put_site,                          "200  200  200  403  403  404  U"),
        row("PUT", "site_a2", put_site,                          "200  200  404  403  403  404  U"),
        row("DELETE", "site_a1",                                 "405  405  405  405  405  405  U"),
    ),
    "api:site-transition": api(
        row("GET", "site_a1",                                    "405  405  405  405  405  405  U"),
        row("POST", "site_a1", fields(status="on_hold", **REASON),
                                                                 "200  200  403  403  403  404  U"),
        row("POST", "site_a2", fields(status="qualified", **REASON),
                                                                 "200  200  404  403  403  404  U"),
        row("POST", "site_b1", fields(status="on_hold", **REASON),
                                                                 "200  404  404  404  404  403  U"),
    ),
    "api:site-checklist": api(
        row("GET", "site_a1",                                    "200  200  200  200  200  404  U"),
        row("GET", "site_a2",                                    "200  200  404  200  200  404  U"),
        row("GET", "site_b1",                                    "200  404  404  404  404  200  U"),
        row("POST", "site_a1",                                   "405  405  405  405  405  405  U"),
    ),
    # ---- API: subjects and their consent -------------------------------------------------
    "api:subject-list": api(
        row("GET", None,                                         "200  200  200  200  200  200  U"),
        # Screening a consented subject at a site the caller may change.
        row("POST", None, screen_subject("site_a1"),             "201  201  201  403  403  403  U",
            note="screen at site_a1"),
        row("POST", None, screen_subject("site_b1"),             "400  400  400  403  403  403  U",
            note="screen at site_b1"),
    ),
    "api:subject-detail": api(
        row("GET", "subject_a1",                                 "200  200  200  200  200  404  U"),
        row("GET", "subject_a2",                                 "200  200  404  200  200  404  U"),
        row("GET", "subject_b1",                                 "200  404  404  404  404  200  U"),
        row("PATCH", "subject_a1", some_fields,                  "405  405  405  405  405  405  U"),
    ),
    "api:subject-transition": api(
        row("GET", "subject_a1",                                 "405  405  405  405  405  405  U"),
        row("POST", "subject_a1", fields(status="completed", on=today),
                                                                 "200  200  200  403  403  404  U"),
        row("POST", "subject_a2", fields(status="screen_failed", on=today),
                                                                 "200  200  404  403  403  404  U"),
        row("POST", "subject_b1", fields(status="completed", on=today),
                                                                 "200  404  404  404  404  403  U"),
    ),
    "api:subject-consent": api(
        row("GET", "subject_a1",                                 "405  405  405  405  405  405  U"),
        # subject_a1 already signed ICF 1.0: allowed callers reach the service's 400.
        row("POST", "subject_a1", consent_to_icf_a,              "400  400  400  403  403  404  U"),
        row("POST", "subject_b1", consent_to_icf_a,              "400  404  404  404  404  403  U"),
    ),
    "api:consent-record-list": api(
        row("GET", None,                                         "200  200  200  200  200  200  U"),
        row("POST", None, consent_to_icf_a,                      "405  405  405  405  405  405  U"),
    ),
    "api:consent-record-detail": api(
        row("GET", "consent_a1",                                 "200  200  200  200  200  404  U"),
        row("DELETE", "consent_a1",                              "405  405  405  405  405  405  U"),
    ),
    # ---- API: essential documents and ICF approvals at a site ----------------------------
    "api:essential-document-list": api(
        row("GET", None,                                         "200  200  200  200  200  200  U"),
        row("POST", None, on_site("site_a1", kind="insurance", status="received"),
                                                                 "201  201  201  403  403  403  U",
            note="at site_a1"),
        row("POST", None, on_site("site_b1", kind="insurance", status="received"),
                                                                 "201  400  400  403  403  403  U",
            note="at site_b1"),
    ),
    "api:essential-document-detail": api(
        row("GET", "document_a1",                                "200  200  200  200  200  404  U"),
        row("GET", "document_a2",                                "200  200  404  200  200  404  U"),
        row("GET", "document_b1",                                "200  404  404  404  404  200  U"),
        row("PATCH", "document_a1", fields(version="4", **REASON),
                                                                 "200  200  200  403  403  404  U"),
        row("PATCH", "document_a2", fields(version="2", **REASON),
                                                                 "200  200  404  403  403  404  U"),
        row("PATCH", "document_b1", fields(version="2", **REASON),
                                                                 "200  404  404  404  404  403  U"),
        row("DELETE", "document_a1",                             "405  405  405  405  405  405  U"),
    ),
    "api:essential-document-file": api(
        row("GET", "document_file_a1",                           "200  200  200  200  200  404  U"),
        row("GET", "document_file_a2",                           "200  200  404  200  200  404  U"),
        row("GET", "document_file_b1",                           "200  404  404  404  404  200  U"),
        row("GET", "document_a1",                                "404  404  404  404  404  404  U",
            note="a document without a file"),
        row("POST", "document_file_a1",                          "405  405  405  405  405  405  U"),
    ),
    "api:site-consent-version-list": api(
        row("GET", None,                                         "200  200  200  200  200  200  U"),
        row("POST", None, site_icf_approval("site_a2"),          "201  201  400  403  403  403  U",
            note="ICF 1.0 at site_a2"),
        row("POST", None, site_icf_approval("site_b1"),          "400  400  400  403  403  403  U",
            note="trial A's ICF at site_b1"),
    ),
    "api:site-consent-version-detail": api(
        row("GET", "site_icf_a1",                                "200  200  200  200  200  404  U"),
        row("DELETE", "site_icf_a1",                             "405  405  405  405  405  405  U"),
    ),
}
# fmt: on
