"""Permission matrix of trials: the trial pages (list, detail, edit, creation, lifecycle,
milestones, amendments, ICF versions, new sites) and their REST API. Columns and rules:
tests/api/permissions/matrix.py.

Trial-level writes (milestones, amendments, ICF versions, a new site) need change_trial (the
CRM, the admin); creating a trial needs trials.add_trial (the admin only). A form the service
refuses is re-rendered (200). The milestone edit page is checked on both trials' milestones
and on a missing one.
"""

from collections.abc import Callable

from django.forms.models import model_to_dict

from tests.api.permissions.matrix import (
    REASON,
    Route,
    api,
    fields,
    on_trial,
    page,
    post_only,
    row,
    status_form,
    target_object,
)
from trials.forms import TrialForm


def trial_form(w, target: str) -> dict:
    """The trial edit form, filled in from the trial, with a new title and a reason."""
    trial = target_object(w, target)
    data = model_to_dict(trial, fields=TrialForm.Meta.fields)
    data = {name: "" if value is None else value for name, value in data.items()}
    return {**data, "title": f"{trial.title} (edited)", "change_reason": "Matrix test edit"}


def trial_form_without_reason(w, target: str) -> dict:
    data = trial_form(w, target)
    del data["change_reason"]
    return data


def new_trial_form(w, target) -> dict:
    return {"protocol_number": "M-901", "title": "Matrix trial", "sponsor": w.sponsor_a.pk,
            "phase": "II", "target_enrollment": 10, "safety_timezone": "UTC"}


def new_trial_form_without_title(w, target) -> dict:
    return {**new_trial_form(w, target), "title": ""}


def milestone_form(kind: str, reason: str = "") -> Callable[..., dict]:
    def body(w, target) -> dict:
        data = {"kind": kind, "planned_date": "2027-03-01"}
        return {**data, "change_reason": reason} if reason else data
    return body


def version_form(value: str) -> Callable[..., dict]:
    def body(w, target) -> dict:
        return {"version": value, "summary": "Matrix test"}
    return body


def new_site_form(number: str) -> Callable[..., dict]:
    def body(w, target) -> dict:
        return {"number": number, "institution": "Matrix Klinik", "country": "DE",
                "target_enrollment": 5}
    return body


def new_trial(w, target) -> dict:
    return {"protocol_number": "M-900", "title": "Matrix trial", "sponsor": w.sponsor_a.pk,
            "phase": "II", "target_enrollment": 10}


def patch_title(w, target) -> dict:
    return {"title": "Edited title", "change_reason": "Matrix test edit"}


def put_trial(w, target) -> dict:
    """A full replacement (PUT) of the trial: every writable field, a new title, a reason."""
    trial = target_object(w, target)
    data = model_to_dict(trial, fields=TrialForm.Meta.fields)
    return {**data, "title": f"{trial.title} (replaced)", "change_reason": "Matrix test edit"}


# fmt: off
# Columns:                                                     admin crm  cra  mon  spon out  anon
ROUTES: dict[str, Route] = {
    # ---- pages ---------------------------------------------------------------------------
    "trials:list": page(
        row("GET", None,                                         "200  200  200  200  200  200  L"),
        row("GET", None,                                         "200  200  200  200  200  200  L",
            query="export=csv&q=T", note="export"),
        row("GET", None,                                         "200  200  200  200  200  200  L",
            query="export=xlsx&status=planning", note="export"),
    ),
    "trials:detail": page(
        row("GET", "trial_a",                                    "200  200  200  200  200  404  L"),
        row("GET", "trial_b",                                    "200  404  404  404  404  200  L"),
    ),
    "trials:sites": page(
        row("GET", "trial_a",                                    "200  200  200  200  200  404  L"),
        row("GET", "trial_b",                                    "200  404  404  404  404  200  L"),
        row("GET", "trial_a",                                    "200  200  200  200  200  404  L",
            query="export=csv", note="export"),
        row("GET", "trial_b",                                    "200  404  404  404  404  200  L",
            query="export=xlsx", note="export"),
    ),
    "trials:edit": page(
        row("GET", "trial_a",                                    "200  200  403  403  403  404  L"),
        row("GET", "trial_b",                                    "200  404  404  404  404  403  L"),
        row("POST", "trial_a", trial_form,                       "302  302  403  403  403  404  L"),
        row("POST", "trial_b", trial_form,                       "302  404  404  404  404  403  L"),
        row("POST", "trial_a", trial_form_without_reason,
                                                                 "200  200  403  403  403  404  L",
            note="no change reason: form re-rendered"),
    ),
    "trials:create": page(
        row("GET", None,                                         "200  403  403  403  403  403  L"),
        row("POST", None, new_trial_form,                        "302  403  403  403  403  403  L"),
        row("POST", None, new_trial_form_without_title,          "200  403  403  403  403  403  L",
            note="invalid form re-rendered"),
    ),
    "trials:transition": page(
        post_only("trial_a"),
        row("POST", "trial_a", status_form("startup"),           "302  302  403  403  403  404  L"),
        row("POST", "trial_b", status_form("startup"),           "302  404  404  404  404  403  L"),
        row("POST", "trial_a", status_form("completed"),         "200  200  403  403  403  404  L",
            note="transition refused by the lifecycle"),
        row("POST", "trial_a", status_form("startup", ""),       "200  200  403  403  403  404  L",
            note="no reason"),
    ),
    "trials:milestone_create": page(
        post_only("trial_a"),
        row("POST", "trial_a", milestone_form("lpi"),            "302  302  403  403  403  404  L"),
        row("POST", "trial_b", milestone_form("lpi"),            "302  404  404  404  404  403  L"),
        row("POST", "trial_a", milestone_form("protocol_final"), "200  200  403  403  403  404  L",
            note="the trial already has that milestone"),
    ),
    "trials:milestone_edit": page(
        row("GET", "milestone_a",                                "200  200  403  403  403  404  L"),
        row("POST", "milestone_a", milestone_form("protocol_final", "Matrix re-plan"),
                                                                 "302  302  403  403  403  404  L"),
        row("POST", "milestone_a", milestone_form("protocol_final"),
                                                                 "200  200  403  403  403  404  L",
            note="no reason"),
        row("GET", "milestone_b",                                "200  404  404  404  404  403  L"),
        row("POST", "milestone_b", milestone_form("protocol_final", "Matrix re-plan"),
                                                                 "302  404  404  404  404  403  L"),
        row("GET", "/trials/milestones/999999/edit/",            "404  404  404  404  404  404  L",
            note="no such milestone"),
    ),
    "trials:amendment_create": page(
        post_only("trial_a"),
        row("POST", "trial_a", version_form("9.9"),              "302  302  403  403  403  404  L"),
        row("POST", "trial_b", version_form("9.9"),              "302  404  404  404  404  403  L"),
        row("POST", "trial_a", version_form("1.1"),              "200  200  403  403  403  404  L",
            note="repeated version"),
    ),
    "trials:consent_version_create": page(
        post_only("trial_a"),
        row("POST", "trial_a", version_form("9.9"),              "302  302  403  403  403  404  L"),
        row("POST", "trial_b", version_form("9.9"),              "302  404  404  404  404  403  L"),
        row("POST", "trial_a", version_form("1.0"),              "200  200  403  403  403  404  L",
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
    # ---- API -----------------------------------------------------------------------------
    "api:trial-list": api(
        row("GET", None,                                         "200  200  200  200  200  200  U"),
        row("POST", None, new_trial,                             "201  403  403  403  403  403  U"),
    ),
    "api:trial-detail": api(
        row("GET", "trial_a",                                    "200  200  200  200  200  404  U"),
        row("GET", "trial_b",                                    "200  404  404  404  404  200  U"),
        row("PATCH", "trial_a", patch_title,                     "200  200  403  403  403  404  U"),
        row("PATCH", "trial_b", patch_title,                     "200  404  404  404  404  403  U"),
        row("PUT", "trial_a", put_trial,                         "200  200  403  403  403  404  U"),
        row("PUT", "trial_b", put_trial,                         "200  404  404  404  404  403  U"),
        row("PATCH", "trial_a", lambda w, t: {"title": "No reason"},
                                                                 "400  400  403  403  403  404  U",
            note="no change_reason"),
        row("DELETE", "trial_a",                                 "405  405  405  405  405  405  U"),
    ),
    "api:trial-transition": api(
        row("GET", "trial_a",                                    "405  405  405  405  405  405  U"),
        row("POST", "trial_a", fields(status="startup", **REASON),
                                                                 "200  200  403  403  403  404  U"),
        row("POST", "trial_b", fields(status="startup", **REASON),
                                                                 "200  404  404  404  404  403  U"),
    ),
    "api:trial-enrollment": api(
        row("GET", "trial_a",                                    "200  200  200  200  200  404  U"),
        row("GET", "trial_b",                                    "200  404  404  404  404  200  U"),
        row("POST", "trial_a",                                   "405  405  405  405  405  405  U"),
    ),
    "api:milestone-list": api(
        row("GET", None,                                         "200  200  200  200  200  200  U"),
        row("POST", None, on_trial("trial_a", kind="lpi", planned_date="2027-06-30"),
                                                                 "201  201  403  403  403  403  U",
            note="on trial A"),
        row("POST", None, on_trial("trial_b", kind="lpi", planned_date="2027-06-30"),
                                                                 "201  400  403  403  403  403  U",
            note="on trial B"),
    ),
    "api:milestone-detail": api(
        row("GET", "milestone_a",                                "200  200  200  200  200  404  U"),
        row("GET", "milestone_b",                                "200  404  404  404  404  200  U"),
        row("PATCH", "milestone_a", fields(name="", **REASON),
                                                                 "200  200  403  403  403  404  U"),
        row("PATCH", "milestone_b", fields(name="", **REASON),
                                                                 "200  404  404  404  404  403  U"),
        row("DELETE", "milestone_a",                             "405  405  405  405  405  405  U"),
    ),
    "api:amendment-list": api(
        row("GET", None,                                         "200  200  200  200  200  200  U"),
        row("POST", None, on_trial("trial_a", version="9.9"),
                                                                 "201  201  403  403  403  403  U"),
    ),
    "api:amendment-detail": api(
        row("GET", "amendment_a",                                "200  200  200  200  200  404  U"),
        row("PATCH", "amendment_a", fields(summary="x"),         "405  405  405  405  405  405  U"),
    ),
    "api:consent-version-list": api(
        row("GET", None,                                         "200  200  200  200  200  200  U"),
        row("POST", None, on_trial("trial_a", version="9.9"),
                                                                 "201  201  403  403  403  403  U"),
        row("POST", None, on_trial("trial_b", version="9.9"),
                                                                 "201  400  403  403  403  403  U"),
    ),
    "api:consent-version-detail": api(
        row("GET", "icf_a",                                      "200  200  200  200  200  404  U"),
        row("DELETE", "icf_a",                                   "405  405  405  405  405  405  U"),
    ),
}
# fmt: on
