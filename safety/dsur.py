"""The DSUR's calendar as a pure function (DOMAIN A3; ICH E2F §2.4 and B §2.6): a report per
year of development, its data lock point the day before each anniversary of the development
international birth date (DIBD), due 60 days after it."""

from datetime import date, timedelta

DUE_AFTER_LOCK = timedelta(days=60)
OPENS_BEFORE_LOCK = timedelta(days=60)  # the deadline shows, and reminds, from this far ahead


def anniversary(dibd: date, year: int) -> date:
    """The DIBD's anniversary in `year` (29 February falls on 28 February in other years)."""
    try:
        return dibd.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


def dsur_cycles(*, dibd: date, tracked_from: date, today: date) -> list[tuple[date, date]]:
    """(data lock point, due date) of every DSUR the portal tracks for a trial: those due on or
    after the day the trial was entered (`tracked_from`; earlier ones are history it never
    held), whose lock point is at most OPENS_BEFORE_LOCK ahead of `today`."""
    cycles = []
    for year in range(max(dibd.year + 1, tracked_from.year - 1), today.year + 2):
        lock = anniversary(dibd, year) - timedelta(days=1)
        due = lock + DUE_AFTER_LOCK
        if due >= tracked_from and lock - OPENS_BEFORE_LOCK <= today:
            cycles.append((lock, due))
    return cycles
