"""Permission matrix of the case pages: entering an adverse event on a subject, recording a
follow-up on the AE page and recording a report as submitted. Cases are entered and followed up
by the site's CRA or the trial's medical monitor (never a CRM or a sponsor viewer); reports are
submitted by the medical monitor. Sponsor viewers see no case. Columns and rules:
tests/api/permissions/matrix.py."""

from collections.abc import Callable
from datetime import timedelta

from django.utils import timezone

import tests.api.permissions.safety  # noqa: F401  (the obligation_* targets)
from safety.forms import case_initial
from tests.api.permissions.matrix import Route, page, post_only, row

MINUTE = "%Y-%m-%dT%H:%M"  # a datetime-local input's value (the world's trials keep UTC)


def new_case(grade: int = 3) -> Callable[..., dict]:
    """The entry form as a CRA fills it: a non-serious febrile neutropenia (grades 3-5)."""
    def body(w, target) -> dict:
        aware = (timezone.now() - timedelta(days=1)).strftime(MINUTE)
        return {"verbatim_term": "fever with low neutrophils", "term": "Febrile neutropenia",
                "onset_date": (timezone.now() - timedelta(days=2)).date().isoformat(),
                "severity_grade": grade, "outcome": "recovering",
                "investigator_causality": "related", "site_awareness_at": aware,
                "sponsor_awareness_at": aware}
    return body


def follow_up(w, target) -> dict:
    """The follow-up form as the page prefills it, with the outcome changed."""
    event = getattr(w, target)
    values = {**case_initial(event), "outcome": "recovered"}
    body = {f"follow_up-{name}": value for name, value in values.items() if value is not None}
    body["follow_up-onset_date"] = event.onset_date.isoformat()
    body["follow_up-information_received_at"] = timezone.now().strftime(MINUTE)
    body["follow_up-narrative"] = "Matrix test follow-up"
    return body


def submission(w, target) -> dict:
    # A minute ahead, rounded down: never before the clock the target's review just started.
    return {"submitted_at": (timezone.now() + timedelta(minutes=1)).strftime(MINUTE),
            "reference": "MATRIX-1"}


# fmt: off
# Columns:                                             admin crm  cra  mon  spon out  anon
ROUTES: dict[str, Route] = {
    "safety:ae_create": page(
        row("GET", "subject_a1",                         "200  403  200  200  403  404  L"),
        row("GET", "subject_a2",                         "200  403  404  200  403  404  L"),
        row("GET", "subject_b1",                         "200  404  404  404  404  403  L"),
        row("POST", "subject_a1", new_case(),            "302  403  302  302  403  404  L"),
        row("POST", "subject_a2", new_case(),            "302  403  404  302  403  404  L"),
        row("POST", "subject_a1", new_case(grade=2),     "400  403  400  400  403  404  L",
            note="a grade the CTCAE term does not have"),
    ),
    "safety:ae_follow_up": page(
        post_only("ae_a1"),
        row("POST", "ae_a1", follow_up,                  "302  403  302  302  404  404  L"),
        row("POST", "ae_a2", follow_up,                  "302  403  404  302  404  404  L"),
        row("POST", "ae_b1", follow_up,                  "302  404  404  404  404  404  L"),
    ),
    "safety:obligation_submit": page(
        post_only("obligation_a1"),
        row("POST", "obligation_a1", submission,         "302  403  403  302  404  404  L"),
        row("POST", "obligation_a2", submission,         "302  403  404  302  404  404  L"),
        row("POST", "obligation_b1", submission,         "302  404  404  404  404  404  L"),
    ),
}
# fmt: on
