"""Give the date-only deadlines opened before `due_on` existed their day.

Their services set the due time to midnight of the day on the owner's clock (milestones,
document and training expiries, re-consents) or to the end of the day on the trial's safety
clock (a DSUR: midnight starting the next day). A row whose due time is exactly that midnight
gets the day; any other (an owner who changed zone since) is left a timed deadline until its
record next changes and its service sets the day itself.
"""

from datetime import time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import migrations

OWNER_MIDNIGHT_KINDS = ("milestone", "document_expiry", "training_expiry", "reconsent")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _midnight_day(moment, zone_name: str):
    local = moment.astimezone(_zone(zone_name))
    return local.date() if local.time() == time.min else None


def backfill(apps, schema_editor) -> None:
    deadline_model = apps.get_model("reminders", "Deadline")
    rows = deadline_model.objects.filter(due_on__isnull=True).select_related("owner", "trial")
    for deadline in rows.filter(kind__in=OWNER_MIDNIGHT_KINDS).iterator():
        day = _midnight_day(deadline.due_at, deadline.owner.timezone)
        if day is not None:
            deadline_model.objects.filter(pk=deadline.pk).update(due_on=day)
    for deadline in rows.filter(kind="dsur", trial__isnull=False).iterator():
        day = _midnight_day(deadline.due_at, deadline.trial.safety_timezone)
        if day is not None:
            deadline_model.objects.filter(pk=deadline.pk).update(due_on=day - timedelta(days=1))


class Migration(migrations.Migration):

    dependencies = [
        ("reminders", "0007_deadline_due_on"),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
