"""The permission matrix's vocabulary, shared by every app's table in this package.

Each app module of tests.api.permissions (staffing, trials, ...) declares ROUTES: route name ->
Route, each Route a tuple of rows, one request each: method, target (what the URL's kwargs are
built from), optional body builder and query string, and the expected outcome for every
persona, one column each, in PERSONAS order:

    admin     superuser, staff
    crm       CRM of trial A
    cra       CRA of trial A scoped to site_a1 only (site_a2 is outside their scope)
    monitor   medical monitor of trial A
    sponsor   sponsor viewer of trial A
    outsider  sponsor viewer of trial B
    anon      not logged in

A target is a world attribute ("trial_a" -> kwargs pk), one of the TARGETS below, "kind:attr"
for the audit-trail pages (kwargs kind and pk), a literal path ("/admin/"), or None (no kwargs).
A body builder is called as body(world, target) inside the row's rolled-back savepoint, so it
may create what the request needs.

"Own" objects are on trial A (site_a1, subject_a1, ae_a1), "foreign" ones on trial B. The rules:
an object outside the caller's scope is a 404; a forbidden action on a visible object a 403;
anonymous callers are sent to the login page (pages, `L`) or get a 401 with WWW-Authenticate
(API, `U`); `AL` is the admin's own redirect to its login page. A method the route does not have
is a 405. Allowed writes answer 200/201 (API) or redirect (302, page forms); an invalid page form
is re-rendered (200, or 400 for the review form).

tests/api/test_permission_matrix.py walks every URL pattern and runs these tables.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace

from django.utils import timezone

from safety.models import CtcaeTerm
from sites.models import EssentialDocument
from sites.services import document_create
from sites.services.document_files import as_upload
from staffing.models import Assignment, TrainingRecord
from staffing.services import training_record_create
from trials.ctgov.importing import ctgov_preview
from trials.models import CtgovImport

PERSONAS = ("admin", "crm", "cra", "monitor", "sponsor", "outsider", "anon")
ADMIN_KEY = "admin"  # the Django admin site: one entry for everything under its include

# Expected outcomes other than a plain status code.
L = "L"    # page, anonymous: 302 to the login page with ?next=
AL = "AL"  # admin: 302 to the admin's login page
U = "U"    # API, anonymous: 401 with a WWW-Authenticate header
TOKENS = {L, AL, U}

REASON = {"change_reason": "Matrix test edit"}


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


def post_only(target: str) -> Row:
    """A POST-only page asked with GET."""
    return row("GET", target,                            "405  405  405  405  405  405  L")


# --------------------------------------------------------------------------- the world's objects

def target_object(w: SimpleNamespace, target: str):
    """A row's target: a world attribute, or one of the TARGETS the fixture does not name."""
    if target in TARGETS:
        return TARGETS[target](w)
    return getattr(w, target)


def gcp_training_of(w: SimpleNamespace, user):
    """A GCP training record of the user, recorded (once) by the admin through the service."""
    return TrainingRecord.objects.filter(user=user, kind="gcp").first() or (
        training_record_create(user=user, kind="gcp", by=w.admin,
                               completed_on=timezone.localdate() - timedelta(days=100))
    )


MINIMAL_CTGOV_JSON = (
    b'{"protocolSection": {"identificationModule": {"nctId": "NCT09999999",'
    b' "briefTitle": "Matrix study"}, "statusModule": {"overallStatus": "RECRUITING"}}}'
)


def ctgov_job_of(w: SimpleNamespace):
    """A registry import in preview, uploaded by the admin (the one persona who may create)."""
    return CtgovImport.objects.filter(created_by=w.admin).first() or ctgov_preview(
        data=MINIMAL_CTGOV_JSON, filename="NCT09999999.json", by=w.admin)


PDF_BYTES = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def document_with_file_of(site_attr: str) -> Callable[[SimpleNamespace], object]:
    """A document holding a PDF at the site, filed (once) by the admin through the service."""
    def get(w: SimpleNamespace):
        site = getattr(w, site_attr)
        return EssentialDocument.objects.filter(site=site).exclude(file="").first() or (
            document_create(site=site, by=w.admin, kind="other", title="Matrix file",
                            status="received", file=as_upload(data=PDF_BYTES, name="matrix.pdf")))
    return get


def _assignment(user_attr: str, trial_attr: str) -> Callable:
    def get(w: SimpleNamespace):
        return Assignment.objects.get(user=getattr(w, user_attr), trial=getattr(w, trial_attr))
    return get


def _ctcae_term(w: SimpleNamespace):
    return CtcaeTerm.objects.get(term="Febrile neutropenia")


# Targets the world fixture does not name; several apps' tables use them (the audit pages too).
TARGETS: dict[str, Callable[[SimpleNamespace], object]] = {
    "crm_b_assignment": _assignment("crm_b", "trial_b"),
    "outsider_assignment": _assignment("outsider", "trial_b"),
    "ctcae_term": _ctcae_term,
    "cra_training": lambda w: gcp_training_of(w, w.cra),
    "crm_b_training": lambda w: gcp_training_of(w, w.crm_b),
    "sponsor_training": lambda w: gcp_training_of(w, w.sponsor),
    "ctgov_job": ctgov_job_of,
    "document_file_a1": document_with_file_of("site_a1"),
    "document_file_a2": document_with_file_of("site_a2"),
    "document_file_b1": document_with_file_of("site_b1"),
}


# ------------------------------------------------------------ request bodies of several apps

def today() -> str:
    return timezone.localdate().isoformat()


def some_fields(w, target) -> dict:
    return {"status": "completed", "change_reason": "Matrix test edit"}


def fields(**values) -> Callable[..., dict]:
    """A body of fixed fields; a callable value is called (e.g. today) when the row runs."""
    def body(w, target) -> dict:
        return {name: value() if callable(value) else value for name, value in values.items()}
    return body


def on_trial(trial_attr: str, **values) -> Callable[..., dict]:
    def body(w, target) -> dict:
        return {"trial": getattr(w, trial_attr).pk, **values}
    return body


def on_site(site_attr: str, **values) -> Callable[..., dict]:
    def body(w, target) -> dict:
        return {"site": getattr(w, site_attr).pk, **values}
    return body


def status_form(to: str, reason: str = "Matrix test transition") -> Callable[..., dict]:
    """A page's lifecycle form (trials:transition, sites:transition)."""
    def body(w, target) -> dict:
        return {"status": to, "change_reason": reason}
    return body
