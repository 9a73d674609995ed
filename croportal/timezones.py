"""The one time-zone helper: a person's zone, their local time, midnight of their day.

A person's ``timezone`` is an IANA name chosen on their profile; an empty or unknown one (an old
row, a zone removed from the tz database) reads as UTC rather than failing a reminder or a form.
"""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = ZoneInfo("UTC")


def zone_of(person) -> ZoneInfo:
    try:
        return ZoneInfo(getattr(person, "timezone", "") or "UTC")
    except (ZoneInfoNotFoundError, ValueError, KeyError):
        return UTC


def local_time(moment: datetime, person) -> datetime:
    """The moment on the person's clock."""
    return moment.astimezone(zone_of(person))


def start_of_day(day: date, person) -> datetime:
    """Midnight at the start of ``day`` in the person's zone (a date-only deadline's due time)."""
    return datetime.combine(day, time.min, tzinfo=zone_of(person))


def on_their_clock(naive_or_aware: datetime, person) -> datetime:
    """A wall-clock time the person typed (no zone), read in their zone."""
    naive = naive_or_aware.replace(tzinfo=None)
    return naive.replace(tzinfo=zone_of(person))
