"""The portal's range of dates: what a clinical-trial record can sensibly carry.

Python's dates run from year 1 to 9999, but arithmetic on either end overflows (a reminder
7 days before 0001-01-03, an escalation 2 days after 9999-12-30, a time zone moving a
midnight across the end of the calendar). No trial, document or deadline lies before 1900 or
after 2199, so every door refuses such a date as a clear 400 instead of a server error.
"""

from datetime import UTC, date, datetime, time

from django.db import models

from croportal.exceptions import ApplicationError

EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)
EARLIEST_DATETIME = datetime.combine(EARLIEST_DATE, time.min, tzinfo=UTC)
LATEST_DATETIME = datetime.combine(LATEST_DATE, time.max, tzinfo=UTC)
DATE_RANGE_MESSAGE = (
    f"Dates must lie between {EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()}."
)


def in_portal_range(value: date | datetime) -> bool:
    """Whether a date, or a date-time (aware: its UTC instant; naive: as written), is in range."""
    try:
        if isinstance(value, datetime):
            if value.tzinfo is None or value.utcoffset() is None:
                return EARLIEST_DATETIME.replace(tzinfo=None) <= value <= LATEST_DATETIME.replace(
                    tzinfo=None)
            return EARLIEST_DATETIME <= value <= LATEST_DATETIME
        return EARLIEST_DATE <= value <= LATEST_DATE
    except OverflowError:  # an offset that pushes the instant off Python's calendar
        return False


def check_date_in_range(value: date | datetime | None, *, field: str) -> None:
    """Refuse a date outside the portal's range, naming the field; None (no date) is fine."""
    if value is not None and not in_portal_range(value):
        raise ApplicationError(DATE_RANGE_MESSAGE, field=field)


def check_model_dates(instance: models.Model) -> None:
    """Refuse the first DateField / DateTimeField value of `instance` outside the range."""
    for model_field in instance._meta.concrete_fields:
        if isinstance(model_field, models.DateField):  # DateTimeField is a DateField too
            value = getattr(instance, model_field.attname, None)
            if isinstance(value, date):
                check_date_in_range(value, field=model_field.name)


AXES_USERNAME_LENGTH = 255  # django-axes' AccessAttempt.username column


def axes_username(request, credentials: dict | None = None) -> str | None:
    """The username django-axes records for a log-in attempt (AXES_USERNAME_CALLABLE), cut to
    its column: Django's AuthenticationForm sets max_length after building the field, so a
    300-character username reaches authenticate and PostgreSQL refused axes' row (a 500).
    No account has a username over 150 characters, so the cut one locks out nobody real."""
    if credentials:
        username = credentials.get("username")
    else:
        username = getattr(request, "data", request.POST).get("username")
    return username[:AXES_USERNAME_LENGTH] if isinstance(username, str) else username
