"""Template filters of the portal's one date and date-time format (croportal/formats.py).

Registered as template builtins (settings TEMPLATES OPTIONS "builtins"), so every template
has them without {% load %}:

    {{ site.activated_on|day|default:"—" }}   02-Dec-2026
    {{ notification.created_at|moment }}      02-Dec-2026 14:05 CET (the reader's zone)
    {{ obligation.clock_start_at|moment:zone }} on an explicit zone (a name or a tzinfo)
    {{ assignment.allocation|fte }}           0.5 FTE

The reader's zone is the active one: croportal.middleware_reader activates it for signed-in
people, `{% timezone %}` blocks and `timezone.override` set another (the AE page's safety
clock, an e-mail's recipient).
"""

from datetime import date, datetime

from django import template
from django.utils import timezone

from croportal.formats import format_date, format_datetime, format_fte

register = template.Library()


@register.filter(expects_localtime=False)
def day(value) -> str:
    """A date as DD-MMM-YYYY; a date-time gives its date on the active zone's clock."""
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return format_date(value)
    if isinstance(value, date):
        return format_date(value)
    return ""


@register.filter(expects_localtime=False)
def moment(value, zone=None) -> str:
    """A date-time on the reader's clock (or ``zone``'s), with the zone shown."""
    if isinstance(value, datetime):
        return format_datetime(value, zone=zone or timezone.get_current_timezone())
    if isinstance(value, date):
        return format_date(value)
    return ""


@register.filter
def fte(value) -> str:
    return format_fte(value)
