"""Permission matrix of safety: adverse events (pages and API), their follow-ups, their sponsor
review with an e-signature, their reporting obligations, and the CTCAE dictionary. Sponsor
viewers (sponsor, outsider) see no case at all: safety reaches them as aggregate counts.
Columns and rules: tests/api/permissions/matrix.py."""

from collections.abc import Callable
from datetime import timedelta

from django.utils import timezone

from safety.models import ReportingObligation
from safety.services import adverse_event_review
from tests.api.permissions.matrix import TARGETS, Route, api, page, row, some_fields
from tests.conftest import PASSWORD
from trials.models import Trial


def review(password: str) -> Callable[..., dict]:
    def body(w, target) -> dict:
        return {"password": password, "sponsor_causality": "related",
                "expectedness": "unexpected", "comment": "Matrix test review"}
    return body


def new_case(subject_attr: str) -> Callable[..., dict]:
    def body(w, target) -> dict:
        aware = (timezone.now() - timedelta(days=1)).isoformat()
        return {"subject": getattr(w, subject_attr).pk, "verbatim_term": "rash",
                "term": "Rash maculo-papular", "onset_date": (timezone.localdate()
                                                             - timedelta(days=2)).isoformat(),
                "severity_grade": 2, "site_awareness_at": aware, "sponsor_awareness_at": aware}
    return body


def follow_up(w, target) -> dict:
    return {"information_received_at": timezone.now().isoformat(),
            "changes": {"outcome": "recovered"}, "narrative": "Matrix test follow-up"}


def obligation_of(w, event_attr: str) -> ReportingObligation:
    """A 15-day obligation of the case: reviewed as an unexpected related SUSAR on a trial
    under an IND (made so inside the row's rolled-back savepoint)."""
    event = getattr(w, event_attr)
    existing = ReportingObligation.objects.filter(adverse_event=event).first()
    if existing is not None:
        return existing
    Trial.objects.filter(pk=event.trial_id).update(ind_number="999999")
    adverse_event_review(event=event, by=w.admin, password=PASSWORD, sponsor_causality="related",
                         expectedness="unexpected")
    return ReportingObligation.objects.filter(adverse_event=event).first()


def submission(w, target) -> dict:
    return {"submitted_at": timezone.now().isoformat(), "reference": "MATRIX-1"}


TARGETS.update({
    "obligation_a1": lambda w: obligation_of(w, "ae_a1"),
    "obligation_a2": lambda w: obligation_of(w, "ae_a2"),
    "obligation_b1": lambda w: obligation_of(w, "ae_b1"),
})


# fmt: off
# Columns:                                             admin crm  cra  mon  spon out  anon
ROUTES: dict[str, Route] = {
    # ---- pages ---------------------------------------------------------------------------
    "safety:ae_detail": page(
        row("GET", "ae_a1",                              "200  200  200  200  404  404  L"),
        row("GET", "ae_a2",                              "200  200  404  200  404  404  L"),
        row("GET", "ae_b1",                              "200  404  404  404  404  404  L"),
    ),
    "safety:ae_review": page(
        row("GET", "ae_a1",                              "405  405  405  405  405  405  L"),
        row("POST", "ae_a1", review(PASSWORD),           "302  403  403  302  404  404  L"),
        row("POST", "ae_a2", review(PASSWORD),           "302  403  404  302  404  404  L"),
        row("POST", "ae_b1", review(PASSWORD),           "302  404  404  404  404  404  L"),
        row("POST", "ae_a1", review("wrong-password"),   "400  403  403  400  404  404  L",
            note="wrong e-signature password"),
    ),
    "safety:ctcae_search": page(
        row("GET", None,                                 "200  200  200  200  200  200  L",
            query="q=neutro"),
    ),
    # ---- API -----------------------------------------------------------------------------
    "api:adverse-event-list": api(
        row("GET", None,                                 "200  200  200  200  200  200  U"),
        # The site's CRA and the monitor enter cases; a CRM or a sponsor viewer may not; a
        # subject outside the caller's sight is a 400 naming `subject`.
        row("POST", None, new_case("subject_a1"),        "201  403  201  201  403  400  U"),
        row("POST", None, new_case("subject_a2"),        "201  403  400  201  403  400  U"),
    ),
    "api:adverse-event-detail": api(
        row("GET", "ae_a1",                              "200  200  200  200  404  404  U"),
        row("GET", "ae_a2",                              "200  200  404  200  404  404  U"),
        row("GET", "ae_b1",                              "200  404  404  404  404  404  U"),
        row("PATCH", "ae_a1", some_fields,               "405  405  405  405  405  405  U"),
    ),
    "api:adverse-event-follow-ups": api(
        row("GET", "ae_a1",                              "405  405  405  405  405  405  U"),
        row("POST", "ae_a1", follow_up,                  "201  403  201  201  404  404  U"),
        row("POST", "ae_a2", follow_up,                  "201  403  404  201  404  404  U"),
        row("POST", "ae_b1", follow_up,                  "201  404  404  404  404  404  U"),
    ),
    "api:adverse-event-versions": api(
        row("GET", "ae_a1",                              "200  200  200  200  404  404  U"),
        row("GET", "ae_b1",                              "200  404  404  404  404  404  U"),
        row("POST", "ae_a1", some_fields,                "405  405  405  405  405  405  U"),
    ),
    "api:adverse-event-review": api(
        row("GET", "ae_a1",                              "405  405  405  405  405  405  U"),
        row("POST", "ae_a1", review(PASSWORD),           "200  403  403  200  404  404  U"),
        row("POST", "ae_a2", review(PASSWORD),           "200  403  404  200  404  404  U"),
        row("POST", "ae_b1", review(PASSWORD),           "200  404  404  404  404  404  U"),
        row("POST", "ae_a1", review("wrong-password"),   "403  403  403  403  404  404  U",
            note="wrong e-signature password"),
    ),
    "api:reporting-obligation-list": api(
        row("GET", None,                                 "200  200  200  200  200  200  U"),
        row("POST", None, some_fields,                   "405  405  405  405  405  405  U"),
    ),
    "api:reporting-obligation-detail": api(
        row("GET", "obligation_a1",                      "200  200  200  200  404  404  U"),
        row("GET", "obligation_a2",                      "200  200  404  200  404  404  U"),
        row("GET", "obligation_b1",                      "200  404  404  404  404  404  U"),
        row("PATCH", "obligation_a1", some_fields,       "405  405  405  405  405  405  U"),
    ),
    "api:reporting-obligation-submit": api(
        row("GET", "obligation_a1",                      "405  405  405  405  405  405  U"),
        row("POST", "obligation_a1", submission,         "200  403  403  200  404  404  U"),
        row("POST", "obligation_b1", submission,         "200  404  404  404  404  404  U"),
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
}
# fmt: on
