"""Every operation of the OpenAPI schema, sent the shapes that used to be server errors:
a deeply nested JSON body, NUL and a lone surrogate in each string field, a 5,000-digit number
in each integer field, 0001-01-01 and 9999-12-31 in each date and date-time field, and NUL or a
5,000-digit number in each query parameter and path id.

Each operation is first sent a valid body, as the persona allowed to do it, with real object ids
(it must succeed: so the hostile values below reach validation, not a 403 or a missing field);
then each hostile variant of that body. None may answer 5xx, each must be refused (4xx), and a
refusal changes nothing: the row counts of every table of the portal's apps (each history
table, deadlines, reminders, notifications, tokens, signatures) are what they were. Every request
runs in a savepoint that is rolled back, so one world serves the whole walk.
"""

import json
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import transaction
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from croportal.audit import history_models
from safety.models import CtcaeTerm
from tests.api.permissions.safety import obligation_of
from tests.conftest import PASSWORD, api_as

HUGE = "9" * 5000
DEEP = '{"a": ' * 10_000 + "1" + "}" * 10_000
EXTREME_DAYS = ("0001-01-01", "9999-12-31")
EXTREME_MOMENTS = ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00")
OWN_APPS = {"staffing", "trials", "sites", "safety", "reminders"}
# Operations that take no body and read no query string of their own.
NO_INPUT = {("post", "/api/v1/auth/logout/"), ("post", "/api/v1/deadlines/{id}/done/"),
            ("post", "/api/v1/notifications/{id}/read/"),
            ("post", "/api/v1/notifications/read-all/")}


def openapi() -> dict:
    return json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True),
                                 default=str))


def operations(spec: dict) -> list[tuple[str, str, dict]]:
    return [(method, path, op) for path, ops in spec["paths"].items()
            for method, op in ops.items() if method in ("get", "post", "put", "patch")]


def request_fields(spec: dict, op: dict) -> dict[str, dict]:
    """The writable properties of an operation's JSON request body: name → schema."""
    content = op.get("requestBody", {}).get("content", {}).get("application/json")
    if not content:
        return {}
    ref = content["schema"]["$ref"].rsplit("/", 1)[-1]
    properties = spec["components"]["schemas"][ref].get("properties", {})
    return {name: schema for name, schema in properties.items() if not schema.get("readOnly")}


def kind_of(schema: dict) -> str:
    """string, integer, date, date-time or other; enums and refs to enums count as strings."""
    if "$ref" in schema or "enum" in schema or "oneOf" in schema or "allOf" in schema:
        return "string"
    if schema.get("type") == "string":
        return schema.get("format") if schema.get("format") in ("date", "date-time") else "string"
    return schema.get("type", "other")


# ----------------------------------------------------------------------- personas and bodies

def persona(w: SimpleNamespace, method: str, path: str):
    if path == "/api/v1/trials/" and method == "post":
        return w.admin  # only administrators create trials
    if path in ("/api/v1/adverse-events/{id}/review/",
                "/api/v1/reporting-obligations/{id}/submit/"):
        return w.monitor
    if path in ("/api/v1/adverse-events/", "/api/v1/adverse-events/{id}/follow-ups/"):
        return w.cra  # the site's CRA enters cases and their follow-ups
    return w.crm


def object_id(w: SimpleNamespace, path: str) -> int:
    return {
        "trials": lambda: w.trial_a.pk, "sites": lambda: w.site_a1.pk,
        "subjects": lambda: w.subject_a1.pk, "adverse-events": lambda: w.ae_a1.pk,
        "assignments": lambda: w.cra_assignment.pk,
        "ctcae-terms": lambda: CtcaeTerm.objects.order_by("pk").first().pk,
        "training-records": lambda: w.training.pk, "deadlines": lambda: w.deadline_a.pk,
        "notifications": lambda: w.notification_crm.pk, "milestones": lambda: w.milestone_a.pk,
        "amendments": lambda: w.amendment_a.pk, "consent-versions": lambda: w.icf_a.pk,
        "essential-documents": lambda: w.document_a1.pk,
        "site-consent-versions": lambda: w.site_icf_a1.pk,
        "consent-records": lambda: w.consent_a1.pk,
        "reporting-obligations": lambda: obligation_of(w, "ae_a1").pk,
    }[path.split("/")[3]]()


def valid_body(w: SimpleNamespace, method: str, path: str, client: APIClient) -> dict:
    """A body the operation accepts; PUT bodies are the record as read, with a reason."""
    today, soon = timezone.localdate(), timezone.now() + timedelta(days=3)
    if method == "patch":
        return {"change_reason": "Hostile-input walk"}
    if method == "put":
        current = client.get(path.replace("{id}", str(object_id(w, path)))).json()
        return {**current, "change_reason": "Hostile-input walk"}
    aware = (timezone.now() - timedelta(days=1)).isoformat()
    bodies = {
        "/api/v1/adverse-events/": {
            "subject": w.subject_a1.pk, "verbatim_term": "rash", "term": "Rash maculo-papular",
            "onset_date": (today - timedelta(days=2)).isoformat(), "severity_grade": 2,
            "seriousness_criteria": ["hospitalization"], "investigator_causality": "related",
            "site_awareness_at": aware, "sponsor_awareness_at": aware},
        "/api/v1/adverse-events/{id}/follow-ups/": {
            "information_received_at": timezone.now().isoformat(),
            "changes": {"outcome": "recovered", "end_date": today.isoformat()},
            "narrative": "Recovered"},
        "/api/v1/reporting-obligations/{id}/submit/": {  # the obligation may be younger
            "submitted_at": (timezone.now() + timedelta(minutes=1)).isoformat(),
            "reference": "FDA-1"},
        "/api/v1/adverse-events/{id}/review/": {
            "password": PASSWORD, "sponsor_causality": "related", "expectedness": "expected",
            "comment": "Reviewed"},
        "/api/v1/amendments/": {"trial": w.trial_a.pk, "version": "2.0",
                                "approved_on": "2026-04-01", "summary": "Visit window"},
        "/api/v1/assignments/": {"user": w.monitor.pk, "trial": w.trial_a.pk, "role": "CRA",
                                 "site": w.site_a2.pk, "start_date": today.isoformat(),
                                 "allocation": "0.20"},
        "/api/v1/assignments/{id}/end/": {"end_date": today.isoformat(),
                                          "change_reason": "Moved on"},
        "/api/v1/auth/token/": {"username": w.crm.username, "password": PASSWORD},
        "/api/v1/consent-versions/": {"trial": w.trial_a.pk, "version": "2.0"},
        "/api/v1/deadlines/": {"kind": "task", "trial": w.trial_a.pk, "owner": w.cra.pk,
                               "due_at": soon.isoformat(), "title": "Call the site"},
        "/api/v1/deadlines/{id}/reassign/": {"owner": w.crm.pk},
        "/api/v1/essential-documents/": {"site": w.site_a1.pk, "kind": "delegation_log",
                                         "version": "4", "status": "received"},
        "/api/v1/milestones/": {"trial": w.trial_a.pk, "kind": "lpi",
                                "planned_date": "2027-06-01"},
        "/api/v1/site-consent-versions/": {
            "site": w.site_a2.pk, "consent_version": w.icf_a.pk,
            "ethics_approved_on": "2026-02-01", "effective_on": "2026-02-10"},
        "/api/v1/sites/": {"trial": w.trial_a.pk, "number": "103", "institution": "Delta",
                           "country": "ES", "target_enrollment": 5},
        "/api/v1/sites/{id}/transition/": {"status": "on_hold", "change_reason": "Audit"},
        "/api/v1/subjects/": {"site": w.site_a1.pk, "number": "101-002",
                              "consent_version": w.icf_a.pk, "consented_on": "2026-05-02"},
        "/api/v1/subjects/{id}/consent/": {"consent_version": w.icf_new.pk,
                                           "consented_on": "2026-05-03"},
        "/api/v1/subjects/{id}/transition/": {"status": "completed", "on": "2026-06-01"},
        "/api/v1/training-records/": {"user": w.cra.pk, "kind": "protocol",
                                      "completed_on": "2026-01-01"},
        "/api/v1/trials/": {"protocol_number": "C-001", "title": "Trial C",
                            "sponsor": w.sponsor_a.pk, "phase": "II", "target_enrollment": 10},
        "/api/v1/trials/{id}/transition/": {"status": "startup", "change_reason": "Approved"},
    }
    return dict(bodies[path])


def hostile_variants(fields: dict[str, dict], body: dict) -> list[tuple[str, str]]:
    """(label, raw JSON body) for each hostile value of each field, on top of a valid body."""
    variants = []
    for name, schema in fields.items():
        kind = kind_of(schema)
        if kind == "string":
            values = ['"a\\u0000b"', '"a\\ud800b"']
        elif kind == "integer":
            values = [HUGE]  # as a JSON number token
        elif kind == "date":
            values = [f'"{day}"' for day in EXTREME_DAYS]
        elif kind == "date-time":
            values = [f'"{moment}"' for moment in EXTREME_MOMENTS]
        else:
            continue
        for value in values:
            others = json.dumps({k: v for k, v in body.items() if k != name})
            raw = others[:-1] + (", " if len(others) > 2 else "") + f'"{name}": {value}}}'
            variants.append((f"{name}={value[:20]}", raw))
    return variants


# ------------------------------------------------------------------------------- the walk

@pytest.fixture
def walk(world):
    from reminders.models import Notification
    from sites.services import site_consent_version_add
    from staffing.services import training_record_create
    from trials.services import consent_version_create

    world.training = training_record_create(user=world.cra, kind="gcp", by=world.admin,
                                            completed_on=world.cra_assignment.start_date)
    world.notification_crm = Notification.objects.create(
        user=world.crm, kind="task", message="Escalation", url="/deadlines/")
    world.icf_new = consent_version_create(trial=world.trial_a, by=world.admin, version="1.1")
    site_consent_version_add(site=world.site_a1, consent_version=world.icf_new, by=world.admin,
                             ethics_approved_on=date(2026, 5, 1), effective_on=date(2026, 5, 2))
    spec = openapi()
    # Every table of the portal's apps: the history tables and the rows nothing audits.
    counted = [model for model in apps.get_models() if model._meta.app_label in OWN_APPS]
    assert set(history_models()) <= set(counted)

    def counts() -> dict:
        return {model.__name__: model.objects.count() for model in counted}

    clients: dict = {}

    def client_for(user) -> APIClient:
        if user.pk not in clients:
            clients[user.pk] = api_as(user)
            clients[user.pk].raise_request_exception = False
        return clients[user.pk]

    def send(method: str, path: str, *, raw: str | None = None, query: dict | None = None,
             user=None):
        """One request in a rolled-back savepoint: (status, text, counts changed?)."""
        client = APIClient(raise_request_exception=False) if "auth/token" in path else (
            client_for(user or persona(world, method, path)))
        url = path.replace("{id}", str(object_id(world, path))) if "{id}" in path else path
        with transaction.atomic():
            before = counts()
            response = getattr(client, method)(
                url, data=raw if raw is not None else query,
                **({"content_type": "application/json"} if raw is not None else {}))
            changed = counts() != before
            transaction.set_rollback(True)
        return response.status_code, response.content.decode(errors="replace")[:300], changed

    return SimpleNamespace(world=world, spec=spec, send=send, client_for=client_for)


def write_operations(walk) -> list[tuple[str, str, dict]]:
    return [(m, p, op) for m, p, op in operations(walk.spec)
            if m != "get" and (m, p) not in NO_INPUT]


def test_every_write_operation_accepts_its_valid_body(walk):
    """The walk's own check: the valid bodies and personas are right, so the hostile variants
    below are refused for their hostile value, not for a missing field or a 403."""
    failures = []
    for method, path, _op in write_operations(walk):
        user = persona(walk.world, method, path)
        body = valid_body(walk.world, method, path, walk.client_for(user))
        status, text, _changed = walk.send(method, path, raw=json.dumps(body))
        if status >= 300:
            failures.append(f"{method.upper()} {path}: {status} {text}")
    assert not failures, "\n".join(failures)


def test_a_deeply_nested_body_is_a_400_on_every_operation_that_takes_one(walk):
    failures = []
    for method, path, _op in write_operations(walk):
        status, text, changed = walk.send(method, path, raw=DEEP)
        if status != 400 or changed or "nested deeper" not in text:
            failures.append(f"{method.upper()} {path}: {status} changed={changed} {text}")
    assert not failures, "\n".join(failures)


def test_nul_surrogates_huge_numbers_and_extreme_dates_are_refused_and_change_nothing(walk):
    failures, tried = [], 0
    for method, path, op in write_operations(walk):
        user = persona(walk.world, method, path)
        body = valid_body(walk.world, method, path, walk.client_for(user))
        for label, raw in hostile_variants(request_fields(walk.spec, op), body):
            tried += 1
            status, text, changed = walk.send(method, path, raw=raw)
            if not 400 <= status < 500 or changed:
                failures.append(f"{method.upper()} {path} {label}: {status} "
                                f"changed={changed} {text}")
    assert tried > 150  # every field of every body, not an empty walk
    assert not failures, "\n".join(failures)


def test_hostile_query_parameters_and_path_ids_are_never_a_server_error(walk):
    failures = []
    for method, path, op in operations(walk.spec):
        if method != "get":
            continue
        for parameter in op.get("parameters", []):
            if parameter["in"] != "query":
                continue
            for value in ("a\x00b", HUGE):
                status, text, _ = walk.send("get", path, query={parameter["name"]: value})
                if status >= 500 or (value == "a\x00b" and status != 400):
                    failures.append(f"GET {path}?{parameter['name']}={value[:8]}: {status} {text}")
        if "{id}" in path:
            status, text, _ = walk.send("get", path.replace("{id}", HUGE))
            if status != 404:
                failures.append(f"GET {path} with a 5,000-digit id: {status} {text}")
    assert not failures, "\n".join(failures)


def test_the_ctcae_search_parameter_is_covered_though_the_schema_omits_it(walk):
    status, text, _ = walk.send("get", "/api/v1/ctcae-terms/", query={"search": "neutro\x00"})
    assert status == 400
    assert "search" in text
