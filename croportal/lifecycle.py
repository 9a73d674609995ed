"""Status lifecycles (trials, sites, subjects): one refusal message for a move not allowed."""

from django.db import models

from croportal.exceptions import ApplicationError


def check_transition(*, what: str, statuses: type[models.TextChoices], current: str, to: str,
                     allowed: list[str]) -> None:
    """Refuse (400 on `status`) an unknown status or one not reachable from `current`, naming
    the statuses that are."""
    if to not in statuses.values:
        raise ApplicationError(f"Unknown status “{to}”.", field="status")
    if to not in allowed:
        names = ", ".join(statuses(s).label for s in allowed) or "none (final status)"
        raise ApplicationError(
            f"A {what} cannot go from {statuses(current).label} to {statuses(to).label}; "
            f"allowed: {names}.", field="status",
        )
