"""Safety services: the CTCAE dictionary, adverse-event cases and their reporting clocks."""

from safety.services.cases import (
    CASE_FIELDS,
    adverse_event_create,
    adverse_event_follow_up,
    adverse_event_review,
    check_case,
)
from safety.services.ctcae import ctcae_load, ctcae_term_resolve
from safety.services.obligations import case_evaluate, obligation_submit

__all__ = [
    "CASE_FIELDS",
    "adverse_event_create",
    "adverse_event_follow_up",
    "adverse_event_review",
    "case_evaluate",
    "check_case",
    "ctcae_load",
    "ctcae_term_resolve",
    "obligation_submit",
]
