"""The permission matrix (DESIGN §4, API.md): every URL pattern x every persona.

Every URL pattern of the portal (pages and `/api/v1/` routes, walked from the root resolver) must
have an entry in MATRIX, keyed by its route name; the Django admin counts as one entry ("admin",
staff only). Each entry lists rows of one request each (method, target object, optional body) and
the expected outcome for every persona, one column each:

    admin     superuser, staff
    crm       CRM of trial A
    cra       CRA of trial A scoped to site_a1 only (site_a2 is outside their scope)
    monitor   medical monitor of trial A
    sponsor   sponsor viewer of trial A
    outsider  sponsor viewer of trial B
    anon      not logged in

"Own" objects are on trial A (site_a1, subject_a1, ae_a1), "foreign" ones on trial B. The rules:
an object outside the caller's scope is a 404; a forbidden action on a visible object a 403;
anonymous callers are sent to the login page (pages, `L`) or get a 401 with WWW-Authenticate
(API, `U`); `AL` is the admin's own redirect to its login page. A method the route does not have
is a 405. Allowed writes answer 200/201 (API) or redirect (302, page forms); an invalid page form
is re-rendered (200, or 400 for the review form).

One test per (route, persona): it builds a fresh world, runs all rows of the route as that
persona and reports every mismatch at once. Each write runs inside a savepoint that is rolled
back, so no write leaks into the next row. API GET rows are also requested through the router's
format-suffix variant (`.json`), which must answer the same.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.db import transaction
from django.forms.models import model_to_dict
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from safety.models import AdverseEvent, CtcaeTerm
from sites.forms import SiteForm
from sites.models import Site, Subject
from staffing.models import Assignment, TrainingRecord
from staffing.services import training_record_create
from tests.conftest import PASSWORD
from trials.forms import TrialForm
from trials.models import Trial

PERSONAS = ("admin", "crm", "cra", "monitor", "sponsor", "outsider", "anon")
ADMIN_KEY = "admin"
FORMAT_SUFFIX = r"\.(?P<format>[a-z0-9]+)/?$"

# Expected outcomes other than a plain status code.
L = "L"    # page, anonymous: 302 to the login page with ?next=
AL = "AL"  # admin: 302 to the admin's login page
U = "U"    # API, anonymous: 401 with a WWW-Authenticate header
TOKENS = {L, AL, U}


# --------------------------------------------------------------------------- the world's objects

def target_object(w: SimpleNamespace, target: str):
    """A row's target: a world attribute, or one of the assignments the fixture does not name."""
    extra = {
        "crm_b_assignment": lambda: Assignment.objects.get(user=w.crm_b, trial=w.trial_b),
        "outsider_assignment": lambda: Assignment.objects.get(user=w.outsider, trial=w.trial_b),
        "ctcae_term": lambda: CtcaeTerm.objects.get(term="Febrile neutropenia"),
        "cra_training": lambda: gcp_training_of(w, w.cra),
        "crm_b_training": lambda: gcp_training_of(w, w.crm_b),
        "sponsor_training": lambda: gcp_training_of(w, w.sponsor),
        "ctgov_job": lambda: ctgov_job_of(w),
    }
    if target in extra:
        return extra[target]()
    return getattr(w, target)


def ctgov_job_of(w: SimpleNamespace):
    """A registry import in preview, uploaded by the admin (the one persona who may create)."""
    from trials.ctgov_import import ctgov_preview
    from trials.models import CtgovImport

    return CtgovImport.objects.filter(created_by=w.admin).first() or ctgov_preview(
        data=MINIMAL_CTGOV_JSON, filename="NCT09999999.json", by=w.admin)


MINIMAL_CTGOV_JSON = (
    b'{"protocolSection": {"identificationModule": {"nctId": "NCT09999999",'
    b' "briefTitle": "Matrix study"}, "statusModule": {"overallStatus": "RECRUITING"}}}'
)


def gcp_training_of(w: SimpleNamespace, user):
    """A GCP training record of the user, recorded (once) by the admin through the service."""
    return TrainingRecord.objects.filter(user=user, kind="gcp").first() or (
        training_record_create(user=user, kind="gcp", by=w.admin,
                               completed_on=timezone.localdate() - timedelta(days=100))
    )


# ------------------------------------------------------------------------------ request bodies

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


def site_form(w, target: str) -> dict:
    site = target_object(w, target)
    data = model_to_dict(site, fields=SiteForm.Meta.fields)
    data = {name: "" if value is None else value for name, value in data.items()}
    return {**data, "city": "Edited City", "change_reason": "Matrix test edit"}


def review(password: str) -> Callable[..., dict]:
    def body(w, target) -> dict:
        return {"password": password, "sponsor_causality": "related",
                "expectedness": "unexpected", "comment": "Matrix test review"}
    return body


def new_trial(w, target) -> dict:
    return {"protocol_number": "M-900", "title": "Matrix trial", "sponsor": w.sponsor_a.pk,
            "phase": "II", "target_enrollment": 10}


def new_site(trial_attr: str) -> Callable[..., dict]:
    def body(w, target) -> dict:
        return {"trial": getattr(w, trial_attr).pk, "number": "909", "institution": "Matrix",
                "country": "DE"}
    return body


def new_assignment(trial_attr: str, site_attr: str) -> Callable[..., dict]:
    def body(w, target) -> dict:
        return {"user": w.cra.pk, "trial": getattr(w, trial_attr).pk,
                "site": getattr(w, site_attr).pk, "role": "CRA",
                "start_date": timezone.localdate().isoformat()}
    return body


def end_assignment(w, target) -> dict:
    return {"end_date": timezone.localdate().isoformat(), "change_reason": "Matrix test end"}


def credentials(password: str) -> Callable[..., dict]:
    def body(w, target) -> dict:
        return {"username": w.crm.username, "password": password}
    return body


def password_change(w, target) -> dict:
    new = "a-brand-new-Passphrase-42"
    return {"old_password": PASSWORD, "new_password1": new, "new_password2": new}


def patch_title(w, target) -> dict:
    return {"title": "Edited title", "change_reason": "Matrix test edit"}


def put_trial(w, target) -> dict:
    """A full replacement (PUT) of the trial: every writable field, a new title, a reason."""
    trial = target_object(w, target)
    data = model_to_dict(trial, fields=TrialForm.Meta.fields)
    return {**data, "title": f"{trial.title} (replaced)", "change_reason": "Matrix test edit"}


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


def some_fields(w, target) -> dict:
    return {"status": "completed", "change_reason": "Matrix test edit"}


def new_task_form(w, target) -> dict:
    return {"kind": "task", "title": "Call the pharmacist", "trial": w.trial_a.pk, "owner": "",
            "due": "2026-12-01T09:00"}


def preferences_form(w, target) -> dict:
    return {"email_enabled": "on", "daily_digest": "on", "muted_kinds": ["milestone"]}


def reassign_to(owner_attr: str) -> Callable[..., dict]:
    def body(w, target) -> dict:
        return {"owner": getattr(w, owner_attr).pk}
    return body


def new_deadline(owner_attr: str | None, kind: str = "task") -> Callable[..., dict]:
    def body(w, target) -> dict:
        data = {"kind": kind, "title": "Send the visit confirmation letter",
                "trial": w.trial_a.pk, "due_at": "2026-12-01T09:00:00+01:00"}
        if owner_attr:
            data["owner"] = getattr(w, owner_attr).pk
        return data
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


# ----------------------------------------------------------------------------- the matrix types

@dataclass(frozen=True)
class Row:
    method: str
    target: str | None       # world object ("trial_a"), "kind:object" for audit pages, or a path
    expected: tuple          # one outcome per persona, in PERSONAS order
    body: Callable | None = None
    note: str = ""
    query: str = ""


@dataclass(frozen=True)
class Route:
    api: bool
    rows: tuple[Row, ...]


def row(method: str, target: str | None, *spec: str | Callable, note: str = "",
        query: str = "") -> Row:
    """row(method, target, [body,] "outcome per persona ...")"""
    *maybe_body, outcomes = spec
    body = maybe_body[0] if maybe_body else None
    assert isinstance(outcomes, str)
    assert body is None or callable(body)
    tokens = outcomes.split()
    assert len(tokens) == len(PERSONAS), f"{method} {target}: {outcomes!r} needs 7 columns"
    expected = tuple(token if token in TOKENS else int(token) for token in tokens)
    return Row(method, target, expected, body, note, query)


def page(*rows: Row) -> Route:
    return Route(api=False, rows=rows)


def api(*rows: Row) -> Route:
    return Route(api=True, rows=rows)


# The matrix is a table, one column per persona: keep `ruff format` out of it.
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
        row("GET", "adverse-event:ae_a1",        "200  200  200  200  200  404  L"),
        row("GET", "adverse-event:ae_a2",        "200  200  404  200  200  404  L"),
        row("GET", "adverse-event:ae_b1",        "200  404  404  404  404  200  L"),
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


# ---------------------------------------------------------------------------------- the matrix
#
# Columns:                                             admin crm  cra  mon  spon out  anon

MATRIX: dict[str, Route] = {
    # ---- pages ---------------------------------------------------------------------------
    "dashboards:home": page(
        row("GET", None,                                 "200  200  200  200  200  200  L"),
    ),
    "dashboards:audit_trail": page(*audit_rows()),
    "dashboards:audit_trail_csv": page(*audit_rows()),
    "trials:list": page(
        row("GET", None,                                 "200  200  200  200  200  200  L"),
    ),
    "trials:detail": page(
        row("GET", "trial_a",                            "200  200  200  200  200  404  L"),
        row("GET", "trial_b",                            "200  404  404  404  404  200  L"),
    ),
    "trials:edit": page(
        row("GET", "trial_a",                            "200  200  403  403  403  404  L"),
        row("GET", "trial_b",                            "200  404  404  404  404  403  L"),
        row("POST", "trial_a", trial_form,               "302  302  403  403  403  404  L"),
        row("POST", "trial_b", trial_form,               "302  404  404  404  404  403  L"),
        row("POST", "trial_a", trial_form_without_reason,
                                                         "200  200  403  403  403  404  L",
            note="no change reason: form re-rendered"),
    ),
    "sites:detail": page(
        row("GET", "site_a1",                            "200  200  200  200  200  404  L"),
        row("GET", "site_a2",                            "200  200  404  200  200  404  L"),
        row("GET", "site_b1",                            "200  404  404  404  404  200  L"),
    ),
    "sites:edit": page(
        row("GET", "site_a1",                            "200  200  200  403  403  404  L"),
        row("GET", "site_a2",                            "200  200  404  403  403  404  L"),
        row("GET", "site_b1",                            "200  404  404  404  404  403  L"),
        row("POST", "site_a1", site_form,                "302  302  302  403  403  404  L"),
        row("POST", "site_a2", site_form,                "302  302  404  403  403  404  L"),
        row("POST", "site_b1", site_form,                "302  404  404  404  404  403  L"),
    ),
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
    "healthz": page(
        row("GET", None,                                 "200  200  200  200  200  200  200"),
        row("POST", None,                                "405  405  405  405  405  405  405"),
    ),
    ADMIN_KEY: page(
        row("GET", "/admin/",                            "200  AL   AL   AL   AL   AL   AL"),
        row("GET", "/admin/trials/trial/",               "200  AL   AL   AL   AL   AL   AL"),
    ),
    # ---- reminders pages (issue 3) -------------------------------------------------------
    "reminders:my_deadlines": page(
        row("GET", None,                                 "200  200  200  200  200  200  L"),
        row("GET", None,                                 "200  200  200  200  200  200  L",
            query="kind=task&state=&trial=999999", note="filters"),
    ),
    "reminders:deadline_new": page(
        row("GET", None,                                 "200  200  200  200  403  403  L"),
        row("POST", None, new_task_form,                 "302  302  302  302  403  403  L"),
    ),
    "reminders:deadline_done": page(
        row("GET", "deadline_a",                         "405  405  405  405  405  405  L"),
        row("POST", "deadline_a",                        "302  302  302  404  404  404  L"),
        row("POST", "deadline_b",                        "302  404  404  404  404  404  L"),
    ),
    "reminders:deadline_reassign": page(
        row("GET", "deadline_a",                         "405  405  405  405  405  405  L"),
        row("POST", "deadline_a", reassign_to("monitor"), "302  302  403  404  404  404  L"),
        row("POST", "deadline_b", reassign_to("crm_b"),  "302  404  404  404  404  404  L"),
    ),
    "reminders:trial_deadlines": page(
        row("GET", "trial_a",                            "200  200  403  403  403  404  L"),
        row("GET", "trial_b",                            "200  404  404  404  404  403  L"),
    ),
    "reminders:notifications": page(
        row("GET", None,                                 "200  200  200  200  200  200  L"),
    ),
    "reminders:bell": page(
        row("GET", None,                                 "200  200  200  200  200  200  L"),
    ),
    "reminders:notifications_read_all": page(
        row("GET", None,                                 "405  405  405  405  405  405  L"),
        row("POST", None,                                "302  302  302  302  302  302  L"),
    ),
    "reminders:notification_read": page(
        row("POST", "notification_cra",                  "404  404  302  404  404  404  L"),
    ),
    "reminders:preferences": page(
        row("GET", None,                                 "200  200  200  200  200  200  L"),
        row("POST", None, preferences_form,              "302  302  302  302  302  302  L"),
    ),
    "reminders:calendar": page(
        row("GET", None,                                 "200  200  200  200  200  200  L"),
        row("POST", None,                                "200  200  200  200  200  200  L",
            note="a new secret address, shown once"),
    ),
    # The feed's secret is its credential: no login, and any other secret is a 404.
    "reminders:calendar_feed": page(
        row("GET", "/calendar/not-a-real-secret.ics",    "404  404  404  404  404  404  404"),
        row("POST", "/calendar/not-a-real-secret.ics",   "405  405  405  405  405  405  405"),
    ),
    # ---- staffing pages and API (issue 3) ------------------------------------------------
    "staffing:training": page(
        row("GET", None,                                 "200  200  200  200  200  200  L"),
        row("POST", None, new_training,                  "302  302  302  302  403  403  L"),
        row("POST", None, lambda w, t: {"kind": "gcp"},  "200  200  200  200  403  403  L",
            note="no completion date: form re-rendered"),
    ),
    "staffing:trial_staff": page(
        row("GET", "trial_a",                            "200  200  403  403  403  404  L"),
        row("GET", "trial_b",                            "200  404  404  404  404  403  L"),
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
    # ---- API ---------------------------------------------------------------------------
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
    "api:trial-list": api(
        row("GET", None,                                 "200  200  200  200  200  200  U"),
        row("POST", None, new_trial,                     "201  403  403  403  403  403  U"),
    ),
    "api:trial-detail": api(
        row("GET", "trial_a",                            "200  200  200  200  200  404  U"),
        row("GET", "trial_b",                            "200  404  404  404  404  200  U"),
        row("PATCH", "trial_a", patch_title,             "200  200  403  403  403  404  U"),
        row("PATCH", "trial_b", patch_title,             "200  404  404  404  404  403  U"),
        row("PUT", "trial_a", put_trial,                 "200  200  403  403  403  404  U"),
        row("PUT", "trial_b", put_trial,                 "200  404  404  404  404  403  U"),
        row("PATCH", "trial_a", lambda w, t: {"title": "No reason"},
                                                         "400  400  403  403  403  404  U",
            note="no change_reason"),
        row("DELETE", "trial_a",                         "405  405  405  405  405  405  U"),
    ),
    "api:site-list": api(
        row("GET", None,                                 "200  200  200  200  200  200  U"),
        row("POST", None, new_site("trial_a"),           "201  201  403  403  403  403  U",
            note="new site on trial A"),
        # A foreign trial in the body is an invalid choice (400), it does not exist for them.
        row("POST", None, new_site("trial_b"),           "201  400  403  403  403  403  U",
            note="new site on trial B"),
    ),
    "api:site-detail": api(
        row("GET", "site_a1",                            "200  200  200  200  200  404  U"),
        row("GET", "site_a2",                            "200  200  404  200  200  404  U"),
        row("GET", "site_b1",                            "200  404  404  404  404  200  U"),
        row("PATCH", "site_a1", patch_city,              "200  200  200  403  403  404  U"),
        row("PATCH", "site_a2", patch_city,              "200  200  404  403  403  404  U"),
        row("PATCH", "site_b1", patch_city,              "200  404  404  404  404  403  U"),
        row("PUT", "site_a1", put_site,                  "200  200  200  403  403  404  U"),
        row("PUT", "site_a2", put_site,                  "200  200  404  403  403  404  U"),
        row("DELETE", "site_a1",                         "405  405  405  405  405  405  U"),
    ),
    "api:subject-list": api(
        row("GET", None,                                 "200  200  200  200  200  200  U"),
        # Screening a consented subject at a site the caller may change (issue 4).
        row("POST", None, screen_subject("site_a1"),     "201  201  201  403  403  403  U",
            note="screen at site_a1"),
        row("POST", None, screen_subject("site_b1"),     "400  400  400  403  403  403  U",
            note="screen at site_b1"),
    ),
    "api:subject-detail": api(
        row("GET", "subject_a1",                         "200  200  200  200  200  404  U"),
        row("GET", "subject_a2",                         "200  200  404  200  200  404  U"),
        row("GET", "subject_b1",                         "200  404  404  404  404  200  U"),
        row("PATCH", "subject_a1", some_fields,          "405  405  405  405  405  405  U"),
    ),
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
    # ---- reminders API (issue 3) ------------------------------------------------------
    "api:deadline-list": api(
        row("GET", None,                                 "200  200  200  200  200  200  U"),
        row("GET", None,                                 "200  200  200  200  200  200  U",
            query="mine=true&state=open&overdue=false&kind=task", note="filters"),
        row("POST", None, new_deadline(None),            "201  201  201  201  403  403  U",
            note="a task for oneself on trial A"),
        row("POST", None, new_deadline("monitor"),       "201  201  400  201  403  403  U",
            note="a task for the medical monitor"),
        row("POST", None, new_deadline(None, "coffee"),  "400  400  400  400  403  403  U",
            note="unknown kind"),
        row("POST", None, new_deadline(None, "training_expiry"),
                                                         "400  400  400  400  403  403  U",
            note="a kind the portal keeps itself"),
    ),
    "api:deadline-detail": api(
        row("GET", "deadline_a",                         "200  200  200  404  404  404  U"),
        row("GET", "deadline_b",                         "200  404  404  404  404  404  U"),
        row("PATCH", "deadline_a", some_fields,          "405  405  405  405  405  405  U"),
        row("DELETE", "deadline_a",                      "405  405  405  405  405  405  U"),
    ),
    "api:deadline-reassign": api(
        row("GET", "deadline_a",                         "405  405  405  405  405  405  U"),
        row("POST", "deadline_a", reassign_to("monitor"), "200  200  403  404  404  404  U"),
        row("POST", "deadline_a", reassign_to("sponsor"), "400  400  403  404  404  404  U",
            note="a sponsor viewer cannot own the CRO's work"),
        row("POST", "deadline_b", reassign_to("crm_b"),  "200  404  404  404  404  404  U"),
    ),
    "api:deadline-done": api(
        row("GET", "deadline_a",                         "405  405  405  405  405  405  U"),
        row("POST", "deadline_a",                        "200  200  200  404  404  404  U"),
        row("POST", "deadline_b",                        "200  404  404  404  404  404  U"),
    ),
    "api:notification-list": api(
        row("GET", None,                                 "200  200  200  200  200  200  U"),
        row("POST", None, some_fields,                   "405  405  405  405  405  405  U"),
    ),
    "api:notification-detail": api(
        row("GET", "notification_cra",                   "404  404  200  404  404  404  U"),
        row("DELETE", "notification_cra",                "405  405  405  405  405  405  U"),
    ),
    "api:notification-read": api(
        row("GET", "notification_cra",                   "405  405  405  405  405  405  U"),
        row("POST", "notification_cra",                  "404  404  200  404  404  404  U"),
    ),
    "api:notification-read-all": api(
        row("POST", None,                                "200  200  200  200  200  200  U"),
    ),
    # ---- staffing pages and API (issue 3) ------------------------------------------------
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

# Issue 4's routes live in their own modules (same helpers, same columns), merged here.
from tests.api import (  # noqa: E402
    matrix_ctgov,
    matrix_issue4_api,
    matrix_issue4_pages,
)

for _module in (matrix_issue4_api, matrix_issue4_pages, matrix_ctgov):
    assert not set(_module.ENTRIES) & set(MATRIX), f"{_module.__name__} repeats an entry"
    MATRIX.update(_module.ENTRIES)


# ------------------------------------------------------------------------- route enumeration

def _is_static_serving(pattern: URLPattern) -> bool:
    module = getattr(pattern.callback, "__module__", "")
    return module in {"django.views.static", "django.contrib.staticfiles.views"}


def enumerate_routes() -> list[tuple[str, str]]:
    """(full pattern, matrix key) of every URL pattern. The key is the namespaced route name
    (a pattern without a name is keyed by its pattern, so it can never match an entry);
    everything under the admin's include is the one key "admin"; DRF's format-suffix variants
    share their base route's name and so its entry."""
    found: list[tuple[str, str]] = []

    def walk(resolver: URLResolver, prefix: str, namespace: str | None) -> None:
        for pattern in resolver.url_patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                if pattern.app_name == "admin":  # the Django admin site: one entry
                    found.append((route, ADMIN_KEY))
                    continue
                inner = namespace
                if pattern.namespace:
                    inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                walk(pattern, route, inner)
            elif not _is_static_serving(pattern):
                name = pattern.name
                key = (f"{namespace}:{name}" if namespace else name) if name else route
                found.append((route, key))

    walk(get_resolver(), "", None)
    return found


def test_every_route_has_exactly_one_matrix_entry():
    routes = enumerate_routes()
    enumerated = {key for _, key in routes}
    missing = sorted(f"{key}  ({route})" for route, key in routes if key not in MATRIX)
    stale = sorted(set(MATRIX) - enumerated)
    assert not missing, "URL patterns without a permission-matrix entry:\n" + "\n".join(missing)
    assert not stale, f"matrix entries for routes that no longer exist: {stale}"
    # The walk really saw the portal: pages, the API router and the admin.
    assert {"trials:detail", "api:trial-detail", "api:assignment-end", ADMIN_KEY} <= enumerated


def test_format_suffix_variants_share_their_base_routes_entry():
    routes = enumerate_routes()
    suffixed = [(route, key) for route, key in routes if route.endswith(FORMAT_SUFFIX)]
    assert suffixed, "expected DefaultRouter's format-suffix patterns"
    plain = {key for route, key in routes if not route.endswith(FORMAT_SUFFIX)}
    orphans = [route for route, key in suffixed if key not in plain]
    assert not orphans, f"format-suffix patterns without a base route: {orphans}"


# ---------------------------------------------------------------------------- running a row

@pytest.fixture(autouse=True)
def _fresh_throttles():
    """The token endpoint is throttled per caller in the default (local-memory) cache."""
    if "LocMemCache" in settings.CACHES["default"]["BACKEND"]:
        cache.clear()


def url_of(key: str, target: str | None, w: SimpleNamespace, *, fmt: str | None = None) -> str:
    if target is not None and target.startswith("/"):
        return target
    kwargs: dict = {}
    if target is not None and ":" in target:
        kind, attr = target.split(":", 1)
        kwargs = {"kind": kind, "pk": target_object(w, attr).pk}
    elif target is not None:
        kwargs = {"pk": target_object(w, target).pk}
    if fmt:
        kwargs["format"] = fmt
    return reverse(key, kwargs=kwargs)


def client_for(route: Route, persona: str, w: SimpleNamespace) -> Client:
    client: Client = APIClient() if route.api else Client()
    client.raise_request_exception = False
    if persona != "anon":
        user = getattr(w, persona)
        if route.api:
            client.force_authenticate(user)
        else:
            client.force_login(user)
    return client


def send(client: Client, route: Route, row_: Row, url: str, w: SimpleNamespace):
    body = row_.body(w, row_.target) if row_.body else None
    if row_.query:
        url = f"{url}?{row_.query}"
    method = getattr(client, row_.method.lower())
    if row_.method == "GET":
        return method(url)
    if route.api:
        return method(url, body or {}, format="json")
    if row_.method == "POST":
        return method(url, body or {})
    return method(url)


def outcome_of(response) -> str:
    location = response.headers.get("Location")
    if location:
        return f"{response.status_code} → {location}"
    if response.status_code in {400, 500} and "json" in response.get("Content-Type", ""):
        return f"{response.status_code} {response.content.decode()[:200]}"
    return str(response.status_code)


def meets(expected, response) -> bool:
    status, location = response.status_code, response.headers.get("Location", "")
    if expected == L:
        return status == 302 and location.startswith(
            redirect_to_login("/").url.split("?")[0] + "?next="
        )
    if expected == AL:
        return status == 302 and location.startswith(reverse("admin:login") + "?next=")
    if expected == U:
        return status == 401 and "WWW-Authenticate" in response.headers
    return status == expected


def describe(expected) -> str:
    return {L: "302 → login page", AL: "302 → admin login", U: "401 with WWW-Authenticate"}.get(
        expected, str(expected)
    )


def run_row(key: str, route: Route, row_: Row, persona: str, w, *, fmt=None) -> str | None:
    """One request; None when it meets the matrix, else a line naming everything involved."""
    expected = row_.expected[PERSONAS.index(persona)]
    url = url_of(key, row_.target, w, fmt=fmt)
    client = client_for(route, persona, w)
    if row_.method == "GET":
        response = send(client, route, row_, url, w)
    else:
        with transaction.atomic():  # the write is rolled back: nothing leaks into the next row
            response = send(client, route, row_, url, w)
            transaction.set_rollback(True)
    if meets(expected, response):
        return None
    on = f" on {row_.target}" if row_.target else ""
    note = f" ({row_.note})" if row_.note else ""
    return (f"{key}: {row_.method} {url} as {persona}{on}{note}: "
            f"expected {describe(expected)}, got {outcome_of(response)}")


def has_format_variant(key: str) -> bool:
    try:
        reverse(key, kwargs={"format": "json"})
    except NoReverseMatch:
        try:
            reverse(key, kwargs={"pk": 1, "format": "json"})
        except NoReverseMatch:
            return False
    return True


@pytest.mark.parametrize(
    ("key", "persona"),
    [(key, persona) for key in MATRIX for persona in PERSONAS],
    ids=[f"{key}-{persona}" for key in MATRIX for persona in PERSONAS],
)
def test_permission_matrix(world, key, persona):
    route = MATRIX[key]
    suffixed = route.api and has_format_variant(key)
    problems, requests = [], 0
    for row_ in route.rows:
        variants = [None, "json"] if suffixed and row_.method == "GET" else [None]
        for fmt in variants:
            requests += 1
            problem = run_row(key, route, row_, persona, world, fmt=fmt)
            if problem:
                problems.append(problem)
    assert not problems, (
        f"{len(problems)} of {requests} requests break the permission matrix:\n"
        + "\n".join(problems)
    )


# ----------------------------------------------------------------- lists never leak foreign rows

LIST_ROUTES = {
    "api:trial-list": Trial,
    "api:site-list": Site,
    "api:subject-list": Subject,
    "api:assignment-list": Assignment,
    "api:adverse-event-list": AdverseEvent,
}


def scope_of(model, pk: int) -> tuple[int, int | None, int | None]:
    """(trial id, site id or None, assigned user id or None) of one row, read from the database
    rather than the serializer, so a wrong serializer field cannot hide a leak."""
    if model is Trial:
        return pk, None, None
    if model is Site:
        return Site.objects.get(pk=pk).trial_id, pk, None
    if model is Subject:
        subject = Subject.objects.get(pk=pk)
        return subject.site.trial_id, subject.site_id, None
    if model is AdverseEvent:
        site = AdverseEvent.objects.select_related("subject__site").get(pk=pk).subject.site
        return site.trial_id, site.pk, None
    assignment = Assignment.objects.get(pk=pk)
    return assignment.trial_id, assignment.site_id, assignment.user_id


def must_include(w, persona: str, model) -> set[int]:
    """Rows the persona must see, so that an empty list cannot pass as "no leak"."""
    own_trial = w.trial_b if persona == "outsider" else w.trial_a
    own = {
        Trial: {own_trial.pk},
        Site: {(w.site_b1 if persona == "outsider" else w.site_a1).pk},
        Subject: {(w.subject_b1 if persona == "outsider" else w.subject_a1).pk},
        AdverseEvent: {(w.ae_b1 if persona == "outsider" else w.ae_a1).pk},
        Assignment: {Assignment.objects.get(user=getattr(w, persona), trial=own_trial).pk},
    }
    if persona == "crm":
        own[Assignment] |= set(w.trial_a.assignments.values_list("pk", flat=True))
    return own[model]


@pytest.mark.parametrize(
    ("key", "persona"),
    [(key, persona) for key in LIST_ROUTES for persona in PERSONAS[1:6]],
    ids=[f"{key}-{persona}" for key in LIST_ROUTES for persona in PERSONAS[1:6]],
)
def test_lists_never_include_foreign_objects(world, key, persona):
    w, model = world, LIST_ROUTES[key]
    user = getattr(w, persona)
    client = APIClient()
    client.force_authenticate(user)
    own_trial, foreign_trial = (
        (w.trial_b, w.trial_a) if persona == "outsider" else (w.trial_a, w.trial_b)
    )

    response = client.get(reverse(key), {"page_size": 200})
    assert response.status_code == 200, f"{key} GET as {persona}: {response.status_code}"
    ids = {item["id"] for item in response.json()["results"]}
    leaks = []
    for pk in sorted(ids):
        trial_id, site_id, user_id = scope_of(model, pk)
        if trial_id != own_trial.pk:
            leaks.append(f"{model.__name__} {pk} of trial {trial_id}")
        elif persona == "cra" and site_id not in (None, w.site_a1.pk):
            leaks.append(f"{model.__name__} {pk} of site {site_id} (outside the CRA's site)")
        elif model is Assignment and persona != "crm" and user_id != user.pk:
            leaks.append(f"{model.__name__} {pk} of another user {user_id}")
    assert not leaks, f"{key} GET as {persona} lists objects outside their scope: {leaks}"
    missing = must_include(w, persona, model) - ids
    assert not missing, f"{key} GET as {persona} omits its own {model.__name__} rows {missing}"

    if model is not Trial:  # trials have no ?trial= filter
        filtered = client.get(reverse(key), {"trial": foreign_trial.pk, "page_size": 200})
        assert filtered.status_code == 200, f"{key}?trial=<foreign> as {persona}"
        leaked = [item["id"] for item in filtered.json()["results"]]
        assert not leaked, f"{key}?trial={foreign_trial.pk} as {persona} returns {leaked}"



# ------------------------------------------------------------ pages never show foreign rows

def hidden_from(w, persona: str) -> dict[str, str]:
    """Marker strings of rows outside the persona's scope (protocol numbers, institutions)."""
    if persona == "outsider":
        return {"trial A": w.trial_a.protocol_number, "site_a1": w.site_a1.institution,
                "site_a2": w.site_a2.institution}
    hidden = {"trial B": w.trial_b.protocol_number, "site_b1": w.site_b1.institution}
    if persona == "cra":
        hidden["site_a2"] = w.site_a2.institution
    return hidden


@pytest.mark.parametrize("persona", PERSONAS[1:6])
@pytest.mark.parametrize("page_name", ["dashboards:home", "trials:list", "trials:detail"])
def test_pages_never_show_foreign_objects(world, page_name, persona):
    w = world
    own_trial = w.trial_b if persona == "outsider" else w.trial_a
    kwargs = {"pk": own_trial.pk} if page_name == "trials:detail" else {}
    client = Client()
    client.force_login(getattr(w, persona))
    response = client.get(reverse(page_name, kwargs=kwargs))
    assert response.status_code == 200, f"{page_name} GET as {persona}"
    html = response.content.decode()
    shown = [f"{label} ({marker!r})" for label, marker in hidden_from(w, persona).items()
             if marker in html]
    assert not shown, f"{page_name} GET as {persona} shows objects outside their scope: {shown}"
    if page_name != "dashboards:home":
        assert own_trial.protocol_number in html, f"{page_name} as {persona} omits its own trial"
    if page_name == "trials:detail":
        own_site = w.site_b1 if persona == "outsider" else w.site_a1
        assert own_site.institution in html, f"{page_name} as {persona} omits {own_site}"
