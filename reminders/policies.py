"""Deadline kinds and their reminder stages (DESIGN §5, DOMAIN A3/A4): data plus pure functions.

A policy says when the owner hears about a deadline (so long before due, at due, then every so
often while overdue) and when the escalation user is told (so long after due). The defaults
below are the portal's; an administrator overrides them per kind (`ReminderPolicy` rows).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import models

from croportal.exceptions import ApplicationError


class Kind(models.TextChoices):
    TASK = "task", "Task"
    MONITORING_VISIT = "monitoring_visit", "Monitoring visit"
    VISIT_REPORT = "visit_report", "Visit report"
    TRAINING_EXPIRY = "training_expiry", "Training expiry"
    DOCUMENT_EXPIRY = "document_expiry", "Essential document expiry"
    MILESTONE = "milestone", "Milestone"
    RECONSENT = "reconsent", "Re-consent"
    MEDICAL_REVIEW = "medical_review", "Medical review"
    REPORTING_OBLIGATION = "reporting_obligation", "Regulatory reporting obligation"
    DSUR = "dsur", "Development safety update report"


# Kinds a person may create by hand (page or API); the others belong to the portal's services,
# which open and close them as their records change (a renewed training closes its expiry).
MANUAL_KINDS = frozenset({Kind.TASK, Kind.MONITORING_VISIT, Kind.VISIT_REPORT})
# Kinds whose owner marks them done: the hand-made ones, and reports the portal cannot see
# being sent (a DSUR is written and filed outside it).
DONE_BY_HAND = MANUAL_KINDS | {Kind.DSUR}


@dataclass(frozen=True)
class Policy:
    before: tuple[timedelta, ...] = ()
    at_due: bool = True
    overdue_every: timedelta | None = None
    escalate_after: timedelta | None = None

    def stage_times(self, due_at: datetime) -> list[datetime]:
        """The fixed stages (before due and at due), earliest first."""
        times = [due_at - offset for offset in self.before]
        if self.at_due:
            times.append(due_at)
        return sorted(set(times))

    def next_after(self, due_at: datetime, after: datetime) -> datetime | None:
        """The owner's first reminder strictly after `after`, or None when none is left."""
        upcoming = [t for t in self.stage_times(due_at) if t > after]
        if self.overdue_every:
            elapsed = after - due_at
            periods = max(1, elapsed // self.overdue_every + 1) if elapsed >= timedelta(0) else 1
            upcoming.append(due_at + periods * self.overdue_every)
        return min(upcoming) if upcoming else None

    def first(self, due_at: datetime, now: datetime) -> datetime | None:
        """The first reminder of a new (or moved) deadline: at once when its reminder window
        has already opened (it is news to the owner), else its first stage."""
        stages = self.stage_times(due_at)
        if (stages and stages[0] <= now) or (not stages and due_at <= now):
            return now
        return self.next_after(due_at, now)

    def escalation_time(self, due_at: datetime) -> datetime | None:
        return None if self.escalate_after is None else due_at + self.escalate_after


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def days(n: float) -> timedelta:
    return timedelta(days=n)


DEFAULT_POLICIES: dict[str, Policy] = {
    Kind.TASK: Policy(before=(days(1),), overdue_every=days(1), escalate_after=days(2)),
    Kind.MONITORING_VISIT: Policy(before=(days(14), days(1))),
    Kind.VISIT_REPORT: Policy(before=(days(2),), overdue_every=days(1), escalate_after=days(2)),
    Kind.TRAINING_EXPIRY: Policy(before=(days(30), days(7)), overdue_every=days(7),
                                 escalate_after=days(1)),
    Kind.DOCUMENT_EXPIRY: Policy(before=(days(60), days(30), days(7)), overdue_every=days(7),
                                 escalate_after=days(1)),
    Kind.MILESTONE: Policy(before=(days(14), days(1)), overdue_every=days(7)),
    Kind.RECONSENT: Policy(before=(days(7),), overdue_every=days(1), escalate_after=days(3)),
    Kind.MEDICAL_REVIEW: Policy(before=(hours(12),), overdue_every=hours(4),
                                escalate_after=hours(4)),
    Kind.REPORTING_OBLIGATION: Policy(before=(days(3), days(1), hours(4)),
                                      overdue_every=hours(4), escalate_after=hours(1)),
    Kind.DSUR: Policy(before=(days(30), days(7), days(1)), overdue_every=days(1),
                      escalate_after=days(1)),
}


def check_kind(kind: str) -> None:
    if kind not in Kind.values:
        known = ", ".join(Kind.values)
        raise ApplicationError(f"Unknown deadline kind {kind!r}; known kinds: {known}.",
                               field="kind")
