"""Permission-matrix entries for the pages of trials, sites and subjects (issue 4);
merged into MATRIX by test_permission_matrix.

Columns: admin  crm  cra  monitor  sponsor  outsider  anon (see test_permission_matrix).

Trial-level writes need change_trial (CRM, admin); site-level writes need the site to be
changeable (CRM, the CRA of site_a1); a site's status needs change_trial on its trial. A form the
service refuses is re-rendered (200). The world has no milestone or document of trial B, so those
two edit pages are checked on their own objects and on a missing one.
"""

from datetime import timedelta

from django.utils import timezone

from sites.services import site_consent_version_add
from tests.api.test_permission_matrix import Route, api, page, row  # noqa: F401
from trials.services import consent_version_create


def today() -> str:
    return timezone.localdate().isoformat()


def new_trial(w, target) -> dict:
    return {"protocol_number": "M-901", "title": "Matrix trial", "sponsor": w.sponsor_a.pk,
            "phase": "II", "target_enrollment": 10, "safety_timezone": "UTC"}


def new_trial_without_title(w, target) -> dict:
    return {**new_trial(w, target), "title": ""}


def status(to: str, reason: str = "Matrix test transition"):
    def body(w, target) -> dict:
        return {"status": to, "change_reason": reason}
    return body


def milestone(kind: str, reason: str = ""):
    def body(w, target) -> dict:
        data = {"kind": kind, "planned_date": "2027-03-01"}
        return {**data, "change_reason": reason} if reason else data
    return body


def version(value: str):
    def body(w, target) -> dict:
        return {"version": value, "summary": "Matrix test"}
    return body


def new_site_form(number: str):
    def body(w, target) -> dict:
        return {"number": number, "institution": "Matrix Klinik", "country": "DE",
                "target_enrollment": 5}
    return body


def document(expires_on: str = "2027-06-01", reason: str = "", status: str = "received"):
    """A filed document (received); an edit of an approved one keeps it approved."""
    def body(w, target) -> dict:
        data = {"kind": "delegation_log", "version": "9", "effective_on": "2026-06-01",
                "expires_on": expires_on, "status": status}
        return {**data, "change_reason": reason} if reason else data
    return body


def site_icf(fresh: bool):
    """An ICF version's approval at the site: a version made for the row (rolled back with it),
    or trial A's ICF 1.0 (already recorded at site_a1, not at site_a2)."""
    def body(w, target) -> dict:
        cv = (consent_version_create(trial=w.trial_a, by=w.admin, version="M-9") if fresh
              else w.icf_a)
        return {"consent_version": cv.pk, "ethics_approved_on": "2026-06-01",
                "effective_on": "2026-06-10"}
    return body


def screen(number: str):
    def body(w, target) -> dict:
        return {"number": number, "consent_version": w.icf_a.pk, "consented_on": "2026-06-01"}
    return body


def subject_status(to: str, withdrawal_reason: str = ""):
    def body(w, target) -> dict:
        return {"to": to, "on": today(), "withdrawal_reason": withdrawal_reason}
    return body


def reconsent(fresh: bool):
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


def post_only(target: str):
    return row("GET", target,                            "405  405  405  405  405  405  L")


# fmt: off
# Columns: admin  crm  cra  monitor  sponsor  outsider  anon
ENTRIES: dict[str, Route] = {
    # ---- trials --------------------------------------------------------------------------
    "trials:create": page(
        row("GET", None,                                         "200  403  403  403  403  403  L"),
        row("POST", None, new_trial,                             "302  403  403  403  403  403  L"),
        row("POST", None, new_trial_without_title,               "200  403  403  403  403  403  L",
            note="invalid form re-rendered"),
    ),
    "trials:transition": page(
        post_only("trial_a"),
        row("POST", "trial_a", status("startup"),                "302  302  403  403  403  404  L"),
        row("POST", "trial_b", status("startup"),                "302  404  404  404  404  403  L"),
        row("POST", "trial_a", status("completed"),              "200  200  403  403  403  404  L",
            note="transition refused by the lifecycle"),
        row("POST", "trial_a", status("startup", ""),            "200  200  403  403  403  404  L",
            note="no reason"),
    ),
    "trials:milestone_create": page(
        post_only("trial_a"),
        row("POST", "trial_a", milestone("lpi"),                 "302  302  403  403  403  404  L"),
        row("POST", "trial_b", milestone("lpi"),                 "302  404  404  404  404  403  L"),
        row("POST", "trial_a", milestone("protocol_final"),      "200  200  403  403  403  404  L",
            note="the trial already has that milestone"),
    ),
    "trials:milestone_edit": page(
        row("GET", "milestone_a",                                "200  200  403  403  403  404  L"),
        row("POST", "milestone_a", milestone("protocol_final", "Matrix re-plan"),
                                                                 "302  302  403  403  403  404  L"),
        row("POST", "milestone_a", milestone("protocol_final"),  "200  200  403  403  403  404  L",
            note="no reason"),
        row("GET", "milestone_b",                                "200  404  404  404  404  403  L"),
        row("POST", "milestone_b", milestone("protocol_final", "Matrix re-plan"),
                                                                 "302  404  404  404  404  403  L"),
        row("GET", "/trials/milestones/999999/edit/",            "404  404  404  404  404  404  L",
            note="no such milestone"),
    ),
    "trials:amendment_create": page(
        post_only("trial_a"),
        row("POST", "trial_a", version("9.9"),                   "302  302  403  403  403  404  L"),
        row("POST", "trial_b", version("9.9"),                   "302  404  404  404  404  403  L"),
        row("POST", "trial_a", version("1.1"),                   "200  200  403  403  403  404  L",
            note="repeated version"),
    ),
    "trials:consent_version_create": page(
        post_only("trial_a"),
        row("POST", "trial_a", version("9.9"),                   "302  302  403  403  403  404  L"),
        row("POST", "trial_b", version("9.9"),                   "302  404  404  404  404  403  L"),
        row("POST", "trial_a", version("1.0"),                   "200  200  403  403  403  404  L",
            note="repeated version"),
    ),
    "trials:site_create": page(
        row("GET", "trial_a",                                    "200  200  403  403  403  404  L"),
        row("GET", "trial_b",                                    "200  404  404  404  404  403  L"),
        row("POST", "trial_a", new_site_form("909"),             "302  302  403  403  403  404  L"),
        row("POST", "trial_b", new_site_form("909"),             "302  404  404  404  404  403  L"),
        row("POST", "trial_a", new_site_form("101"),             "200  200  403  403  403  404  L",
            note="repeated site number"),
    ),
    # ---- sites ---------------------------------------------------------------------------
    "sites:transition": page(
        post_only("site_a1"),
        row("POST", "site_a1", status("on_hold"),                "302  302  403  403  403  404  L"),
        row("POST", "site_a2", status("qualified"),              "302  302  404  403  403  404  L"),
        row("POST", "site_b1", status("on_hold"),                "302  404  404  404  404  403  L"),
        row("POST", "site_a2", status("active"),                 "200  200  404  403  403  404  L",
            note="refused: not initiated, checklist incomplete"),
    ),
    "sites:document_create": page(
        post_only("site_a1"),
        row("POST", "site_a1", document(),                       "302  302  302  403  403  404  L"),
        row("POST", "site_a2", document(),                       "302  302  404  403  403  404  L"),
        row("POST", "site_b1", document(),                       "302  404  404  404  404  403  L"),
        row("POST", "site_a1", document(expires_on="2026-01-01"),
                                                                 "200  200  200  403  403  404  L",
            note="expires before it takes effect"),
    ),
    "sites:document_edit": page(
        row("GET", "document_a1",                                "200  200  200  403  403  404  L"),
        row("POST", "document_a1", document(reason="Matrix test edit", status="approved"),
                                                                 "302  302  302  403  403  404  L"),
        row("POST", "document_a1", document(),                   "200  200  200  403  403  404  L",
            note="no reason"),
        row("GET", "document_b1",                                "200  404  404  404  404  403  L"),
        row("POST", "document_b1", document(reason="Matrix test edit", status="approved"),
                                                                 "302  404  404  404  404  403  L"),
        row("GET", "/sites/documents/999999/edit/",              "404  404  404  404  404  404  L",
            note="no such document"),
    ),
    "sites:consent_version_add": page(
        post_only("site_a1"),
        row("POST", "site_a1", site_icf(fresh=True),             "302  302  302  403  403  404  L"),
        row("POST", "site_a2", site_icf(fresh=False),            "302  302  404  403  403  404  L"),
        row("POST", "site_b1", site_icf(fresh=False),            "200  404  404  404  404  403  L",
            note="trial A's ICF is no choice at trial B's site"),
        row("POST", "site_a1", site_icf(fresh=False),            "200  200  200  403  403  404  L",
            note="already recorded at the site"),
    ),
    "sites:subject_screen": page(
        post_only("site_a1"),
        row("POST", "site_a1", screen("101-777"),                "302  302  302  403  403  404  L"),
        row("POST", "site_a2", screen("102-777"),                "200  200  404  403  403  404  L",
            note="site not active, no ICF in effect"),
        row("POST", "site_b1", screen("201-777"),                "200  404  404  404  404  403  L",
            note="no ICF in effect at the site"),
        row("POST", "site_a1", screen("John Smith"),             "200  200  200  403  403  404  L",
            note="not a pseudonymous number"),
    ),
    "sites:subject_transition": page(
        post_only("subject_a1"),
        row("POST", "subject_a1", subject_status("completed"),   "302  302  302  403  403  404  L"),
        row("POST", "subject_a2", subject_status("screen_failed"),
                                                                 "302  302  404  403  403  404  L"),
        row("POST", "subject_b1", subject_status("completed"),   "302  404  404  404  404  403  L"),
        row("POST", "subject_a1", subject_status("withdrawn"),   "200  200  200  403  403  404  L",
            note="withdrawal without a reason"),
    ),
    "sites:subject_consent": page(
        post_only("subject_a1"),
        row("POST", "subject_a1", reconsent(fresh=True),         "302  302  302  403  403  404  L"),
        row("POST", "subject_a1", reconsent(fresh=False),        "200  200  200  403  403  404  L",
            note="already signed that version"),
        row("POST", "subject_a2", reconsent(fresh=False),        "200  200  404  403  403  404  L",
            note="no ICF in effect at the site"),
        row("POST", "subject_b1", reconsent(fresh=False),        "200  404  404  404  404  403  L",
            note="no ICF in effect at the site"),
    ),
}
# fmt: on

