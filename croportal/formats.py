"""The portal's one way to show a date, a date-time and an FTE: pages, e-mails and exports.

A date is DD-MMM-YYYY (``02-Dec-2026``), the clinical-research convention: no reader can take
the day for the month, whichever country they work in. A date-time is that date, the 24-hour
time and the zone (``02-Dec-2026 14:05 CET``), on the reader's clock; where the tz database
has no letters for a zone, only a number (``+0530`` for ``+05:30``, ``-03`` for São Paulo),
the UTC offset stands in. API bodies and machine attributes stay ISO 8601; this is display.

Pure functions of the standard library only (no settings, no templates), so CSV exports,
e-mails built in a worker and the template filters (croportal/templatetags_formats.py) all
format alike. Django's own formats (admin, widgets) are set from the constants below.
"""

from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# English abbreviations whatever the process locale (strftime's %b follows LC_TIME).
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# The same formats in Django's syntax, for settings.py and croportal/locale_formats (which
# the active language's formats would otherwise override): the admin's lists agree with the
# pages. Inputs read ISO first (what <input type=date> sends, and what the admin's calendar
# writes back), then the display form.
DJANGO_DATE_FORMAT = "d-M-Y"
DJANGO_DATETIME_FORMAT = "d-M-Y H:i T"
DJANGO_TIME_FORMAT = "H:i"
DJANGO_YEAR_MONTH_FORMAT = "M-Y"
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d-%b-%Y"]
TIME_INPUT_FORMATS = ["%H:%M", "%H:%M:%S"]
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M",
    "%d-%b-%Y %H:%M",
]


def format_date(value: date | None) -> str:
    """``02-Dec-2026``; a date-time gives its own calendar date; None gives ""."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.date()
    return f"{value.day:02d}-{MONTHS[value.month - 1]}-{value.year:04d}"


def format_datetime(value: datetime | None, *, zone: tzinfo | str | None) -> str:
    """``02-Dec-2026 14:05 CET``: the moment on ``zone``'s clock (a zone or an IANA name; an
    unknown name or None is UTC). A naive value is read as UTC, as the portal stores time."""
    if value is None:
        return ""
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(as_zone(zone))
    return f"{format_date(local)} {local:%H:%M} {zone_label(local)}"


def zone_label(moment: datetime) -> str:
    """The zone's abbreviation at that moment (CET, CEST, EST, UTC), or the UTC offset
    (``+0530``) where the tz database only has a number."""
    name = moment.tzname() or ""
    if name.isalpha():
        return name
    offset = moment.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(offset) // timedelta(minutes=1)
    return f"{sign}{minutes // 60:02d}{minutes % 60:02d}"


def as_zone(zone: tzinfo | str | None) -> tzinfo:
    if isinstance(zone, tzinfo):
        return zone
    try:
        return ZoneInfo(zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def format_fte(value: Decimal | float | int | str | None) -> str:
    """A full-time equivalent as a plain fraction: ``0.5 FTE``, ``1 FTE`` (never 0.50 or %)."""
    if value is None or value == "":
        return ""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return ""
    if not number.is_finite():
        return ""
    text = format(number.normalize(), "f")
    return f"{'0' if text in ('-0', '') else text} FTE"
