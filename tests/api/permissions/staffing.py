"""Permission matrix of staffing: logging in and out, the password change, API tokens and the
caller's profile (page and API), assignments, training records and the staff pages. Columns
and rules: tests/api/permissions/matrix.py."""

from collections.abc import Callable
from datetime import timedelta

from django.utils import timezone

from tests.api.permissions.matrix import Route, api, page, row, some_fields, target_object
from tests.conftest import PASSWORD


def credentials(password: str) -> Callable[..., dict]:
    def body(w, target) -> dict:
        return {"username": w.crm.username, "password": password}
    return body


def password_change(w, target) -> dict:
    new = "a-brand-new-Passphrase-42"
    return {"old_password": PASSWORD, "new_password1": new, "new_password2": new}


def new_assignment(trial_attr: str, site_attr: str) -> Callable[..., dict]:
    def body(w, target) -> dict:
        return {"user": w.cra.pk, "trial": getattr(w, trial_attr).pk,
                "site": getattr(w, site_attr).pk, "role": "CRA",
                "start_date": timezone.localdate().isoformat()}
    return body


def end_assignment(w, target) -> dict:
    return {"end_date": timezone.localdate().isoformat(), "change_reason": "Matrix test end"}


def own_profile(zone: str) -> Callable[..., dict]:
    def body(w, target) -> dict:
        return {"first_name": "Matrix", "last_name": "Tester", "timezone": zone}
    return body


def new_training(w, target) -> dict:
    return {"kind": "gcp", "completed_on": (timezone.localdate() - timedelta(days=3)).isoformat()}


def new_training_for(user_attr: str) -> Callable[..., dict]:
    def body(w, target) -> dict:
        return {**new_training(w, target), "user": getattr(w, user_attr).pk}
    return body


def patch_training(w, target) -> dict:
    return {"title": "GCP refresher (e-learning)", "change_reason": "Matrix test edit"}


def put_training(w, target) -> dict:
    record = target_object(w, target)
    return {"kind": record.kind, "title": "Replaced", "change_reason": "Matrix test edit",
            "completed_on": record.completed_on.isoformat(),
            "expires_on": (record.completed_on + timedelta(days=365)).isoformat()}


def staff_start(site_attr: str) -> Callable[..., dict]:
    def body(w, target) -> dict:
        return {"action": "start", "user": w.cra.pk, "role": "CRA",
                "site": getattr(w, site_attr).pk, "allocation": "0.2",
                "start_date": timezone.localdate().isoformat()}
    return body


def staff_end(assignment_target: str, reason: str = "Matrix test end") -> Callable[..., dict]:
    def body(w, target) -> dict:
        return {"action": "end", "assignment": target_object(w, assignment_target).pk,
                "end_date": timezone.localdate().isoformat(), "change_reason": reason}
    return body


# fmt: off
# Columns:                                             admin crm  cra  mon  spon out  anon
ROUTES: dict[str, Route] = {
    # ---- accounts ------------------------------------------------------------------------
    "login": page(
        row("GET", None,                                 "302  302  302  302  302  302  200"),
        row("POST", None, credentials(PASSWORD),         "302  302  302  302  302  302  302"),
        row("POST", None, credentials("wrong-password"), "302  302  302  302  302  302  200",
            note="bad credentials"),
    ),
    "logout": page(
        row("GET", None,                                 "405  405  405  405  405  405  405"),
        row("POST", None,                                "302  302  302  302  302  302  302"),
    ),
    "password_change": page(
        row("GET", None,                                 "200  200  200  200  200  200  L"),
        row("POST", None, password_change,               "302  302  302  302  302  302  L"),
    ),
    "password_change_done": page(
        row("GET", None,                                 "200  200  200  200  200  200  L"),
    ),
    "api:auth_token": api(
        row("GET", None,                                 "405  405  405  405  405  405  405"),
        row("POST", None, credentials(PASSWORD),         "200  200  200  200  200  200  200"),
        row("POST", None, credentials("wrong-password"), "400  400  400  400  400  400  400",
            note="bad credentials"),
    ),
    "api:auth_logout": api(
        row("GET", None,                                 "405  405  405  405  405  405  U"),
        row("POST", None,                                "204  204  204  204  204  204  U"),
    ),
    "api:me": api(
        row("GET", None,                                 "200  200  200  200  200  200  U"),
        row("POST", None, some_fields,                   "405  405  405  405  405  405  U"),
    ),
    # Everyone's own profile (name, time zone); there is no way to name another person's.
    "profile": page(
        row("GET", None,                                 "200  200  200  200  200  200  L"),
        row("POST", None, own_profile("Europe/Berlin"),  "302  302  302  302  302  302  L"),
        row("POST", None, own_profile("Mars/Olympus"),   "200  200  200  200  200  200  L",
            note="an unknown time zone: form re-rendered"),
    ),
    # ---- staff pages ---------------------------------------------------------------------
    "staffing:training": page(
        row("GET", None,                                 "200  200  200  200  200  200  L"),
        row("POST", None, new_training,                  "302  302  302  302  403  403  L"),
        row("POST", None, lambda w, t: {"kind": "gcp"},  "200  200  200  200  403  403  L",
            note="no completion date: form re-rendered"),
        row("GET", None,                                 "200  200  200  200  200  200  L",
            query="export=csv", note="export: what the page shows"),
        row("GET", None,                                 "200  200  200  200  200  200  L",
            query="status=expired&export=xlsx", note="export"),
    ),
    "staffing:trial_staff": page(
        row("GET", "trial_a",                            "200  200  403  403  403  404  L"),
        row("GET", "trial_b",                            "200  404  404  404  404  403  L"),
        row("GET", "trial_a",                            "200  200  403  403  403  404  L",
            query="export=csv", note="export"),
        row("GET", "trial_b",                            "200  404  404  404  404  403  L",
            query="export=xlsx", note="export"),
        row("POST", "trial_a", staff_start("site_a2"),   "302  302  403  403  403  404  L"),
        row("POST", "trial_b", staff_start("site_b1"),   "302  404  404  404  404  403  L"),
        row("POST", "trial_a", staff_start("site_b1"),   "200  200  403  403  403  404  L",
            note="a site of another trial: form re-rendered"),
        row("POST", "trial_a", staff_end("cra_assignment"),
                                                         "302  302  403  403  403  404  L"),
        row("POST", "trial_b", staff_end("outsider_assignment"),
                                                         "302  404  404  404  404  403  L"),
        row("POST", "trial_a", staff_end("cra_assignment", reason=""),
                                                         "200  200  403  403  403  404  L",
            note="no change reason: form re-rendered"),
    ),
    "staffing:workload": page(
        row("GET", None,                                 "200  200  403  403  403  403  L"),
        row("POST", None,                                "405  405  405  405  405  405  L"),
    ),
    # ---- assignments API -----------------------------------------------------------------
    "api:assignment-list": api(
        row("GET", None,                                 "200  200  200  200  200  200  U"),
        row("POST", None, new_assignment("trial_a", "site_a2"),
                                                         "201  201  403  403  403  403  U",
            note="CRA onto site_a2 of trial A"),
        row("POST", None, new_assignment("trial_b", "site_b1"),
                                                         "201  400  403  403  403  403  U",
            note="CRA onto site_b1 of trial B"),
    ),
    "api:assignment-detail": api(
        row("GET", "cra_assignment",                     "200  200  200  404  404  404  U"),
        row("GET", "crm_b_assignment",                   "200  404  404  404  404  404  U"),
        row("GET", "outsider_assignment",                "200  404  404  404  404  200  U"),
        row("PATCH", "cra_assignment", some_fields,      "405  405  405  405  405  405  U"),
        row("DELETE", "cra_assignment",                  "405  405  405  405  405  405  U"),
    ),
    "api:assignment-end": api(
        row("GET", "cra_assignment",                     "405  405  405  405  405  405  U"),
        row("POST", "cra_assignment", end_assignment,    "200  200  403  404  404  404  U"),
        row("POST", "crm_b_assignment", end_assignment,  "200  404  404  404  404  404  U"),
        row("POST", "outsider_assignment", end_assignment,
                                                         "200  404  404  404  404  403  U"),
    ),
    # ---- training records API ------------------------------------------------------------
    "api:training-record-list": api(
        row("GET", None,                                 "200  200  200  200  200  200  U"),
        row("GET", None,                                 "200  200  200  200  200  200  U",
            query="user=1&kind=gcp", note="filters"),
        row("POST", None, new_training_for("cra"),       "201  201  201  400  400  400  U",
            note="GCP training of the CRA of A"),
        row("POST", None, new_training_for("crm_b"),     "201  400  400  400  400  400  U",
            note="GCP training of the CRM of B"),
        row("POST", None, new_training_for("sponsor"),   "201  201  400  400  400  400  U",
            note="a sponsor user cannot record their own training"),
    ),
    "api:training-record-detail": api(
        row("GET", "cra_training",                       "200  200  200  404  404  404  U"),
        row("GET", "crm_b_training",                     "200  404  404  404  404  404  U"),
        row("GET", "sponsor_training",                   "200  200  404  404  200  404  U"),
        row("PATCH", "cra_training", patch_training,     "200  200  200  404  404  404  U"),
        row("PATCH", "crm_b_training", patch_training,   "200  404  404  404  404  404  U"),
        row("PATCH", "sponsor_training", patch_training, "200  200  404  404  403  404  U"),
        row("PATCH", "cra_training", lambda w, t: {"title": "No reason"},
                                                         "400  400  400  404  404  404  U",
            note="no change_reason"),
        row("PUT", "cra_training", put_training,         "200  200  200  404  404  404  U"),
        row("DELETE", "cra_training",                    "405  405  405  405  405  405  U"),
    ),
}
# fmt: on
