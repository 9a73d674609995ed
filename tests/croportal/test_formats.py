"""One way to show dates (issue 12): DD-MMM-YYYY, date-times in 24 h on the reader's clock
with the zone shown, FTE as a plain fraction; the same in templates, Django's own formats
(admin, widgets) and plain Python (exports, e-mails)."""

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from datetime import timezone as fixed_zone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import formats, timezone

from croportal.formats import format_date, format_datetime, format_fte, zone_label

WINTER = datetime(2026, 12, 2, 13, 5, tzinfo=UTC)
SUMMER = datetime(2026, 7, 2, 13, 5, tzinfo=UTC)


@pytest.mark.parametrize(("value", "text"), [
    (date(2026, 12, 2), "02-Dec-2026"),
    (date(2027, 1, 31), "31-Jan-2027"),
    (date(1900, 5, 9), "09-May-1900"),
    (datetime(2026, 3, 4, 23, 59, tzinfo=UTC), "04-Mar-2026"),
    (None, ""),
])
def test_a_date_is_day_month_abbreviation_year(value, text):
    assert format_date(value) == text


@pytest.mark.parametrize(("moment", "zone", "text"), [
    (WINTER, "Europe/Berlin", "02-Dec-2026 14:05 CET"),
    (SUMMER, "Europe/Berlin", "02-Jul-2026 15:05 CEST"),
    (WINTER, "America/New_York", "02-Dec-2026 08:05 EST"),
    (WINTER, "UTC", "02-Dec-2026 13:05 UTC"),
    (WINTER, "Asia/Tokyo", "02-Dec-2026 22:05 JST"),
    (WINTER, "Asia/Kolkata", "02-Dec-2026 18:35 IST"),
    # The tz database has no letters for these zones, only a number: the offset stands in.
    (WINTER, "America/Sao_Paulo", "02-Dec-2026 10:05 -0300"),
    (WINTER, "Asia/Kathmandu", "02-Dec-2026 18:50 +0545"),
    (WINTER, fixed_zone(timedelta(hours=5, minutes=30)), "02-Dec-2026 18:35 +0530"),
    # A day later on the reader's clock than in UTC.
    (datetime(2026, 12, 31, 20, 0, tzinfo=UTC), "Pacific/Auckland", "01-Jan-2027 09:00 NZDT"),
    (WINTER, "Not/AZone", "02-Dec-2026 13:05 UTC"),
    (datetime(2026, 12, 2, 13, 5), "UTC", "02-Dec-2026 13:05 UTC"),  # naive: read as UTC
    (None, "UTC", ""),
])
def test_a_date_time_is_24_hours_on_the_zones_clock_with_the_zone(moment, zone, text):
    assert format_datetime(moment, zone=zone) == text


def test_a_zone_label_is_letters_or_an_offset_never_a_bare_number():
    kolkata = WINTER.astimezone(ZoneInfo("Asia/Kolkata"))
    assert zone_label(kolkata) == "IST"
    assert zone_label(WINTER.astimezone(ZoneInfo("America/Noronha"))) == "-0200"
    assert zone_label(WINTER.astimezone(ZoneInfo("Asia/Dubai"))) == "+0400"


@pytest.mark.parametrize(("value", "text"), [
    (Decimal("0.50"), "0.5 FTE"), (Decimal("1.00"), "1 FTE"), (Decimal("0.25"), "0.25 FTE"),
    (Decimal("1.5"), "1.5 FTE"), (Decimal("10"), "10 FTE"), (Decimal("0"), "0 FTE"),
    ("0.2", "0.2 FTE"), (1, "1 FTE"), (None, ""), ("not a number", ""), ("NaN", ""),
])
def test_fte_is_a_plain_fraction(value, text):
    assert format_fte(value) == text


def test_formats_work_without_django_templates_or_settings():
    """CSV exports and workers call it outside any request; nothing there needs Django."""
    code = ("import sys, datetime; import croportal.formats as f; "
            "print(f.format_datetime(datetime.datetime(2026, 12, 2, 13, 5), zone='Europe/Paris'));"
            "assert 'django.template' not in sys.modules, 'templates imported'; "
            "from django.conf import settings; assert not settings.configured, 'settings read'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=False, env={"PYTHONPATH": "."})
    assert (result.returncode, result.stdout.strip()) == (0, "02-Dec-2026 14:05 CET"), \
        result.stderr


def render(text: str, **context) -> str:
    return Template(text).render(Context(context))


def test_the_filters_are_builtins_and_use_the_active_zone():
    with timezone.override(ZoneInfo("Europe/Berlin")):
        assert render("{{ d|day }}|{{ m|moment }}|{{ f|fte }}", d=date(2026, 12, 2), m=WINTER,
                      f=Decimal("0.50")) == "02-Dec-2026|02-Dec-2026 14:05 CET|0.5 FTE"
        assert render("{{ m|moment:'Asia/Tokyo' }}", m=WINTER) == "02-Dec-2026 22:05 JST"
    with timezone.override(ZoneInfo("Pacific/Auckland")):  # already 3 December there
        assert render("{{ m|day }}", m=WINTER) == "03-Dec-2026"


def test_the_filters_show_nothing_for_nothing():
    assert render('{{ d|day|default:"—" }} {{ m|moment|default:"—" }}', d=None, m="") == "— —"
    assert render("{{ d|moment }}", d=date(2026, 12, 2)) == "02-Dec-2026"


def test_djangos_own_formats_agree_with_the_pages():
    """The admin's lists and date widgets go through Django's formats: the same ones."""
    assert formats.date_format(date(2026, 12, 2)) == "02-Dec-2026"
    assert formats.date_format(date(2026, 12, 2), "SHORT_DATE_FORMAT") == "02-Dec-2026"
    with timezone.override(ZoneInfo("Europe/Berlin")):
        local = timezone.localtime(WINTER)
        assert formats.date_format(local, "DATETIME_FORMAT") == "02-Dec-2026 14:05 CET"
        assert formats.date_format(local, "SHORT_DATETIME_FORMAT") == "02-Dec-2026 14:05 CET"
    assert formats.get_format("DATE_INPUT_FORMATS")[0] == "%Y-%m-%d"  # <input type=date>


def test_forms_read_iso_dates_and_the_display_format():
    from django import forms

    field = forms.DateField()
    assert field.clean("2026-12-02") == date(2026, 12, 2)
    assert field.clean("02-Dec-2026") == date(2026, 12, 2)
    with pytest.raises(forms.ValidationError):
        field.clean("12/02/2026")  # month first or day first? Refused, not guessed.
