"""Give the people already assigned the permission to enter adverse events that their role
now carries (access/roles.py): CRAs and medical monitors on their trials, a site-scoped CRA at
their site. Assignments made from now on get it from the assignment services."""

from django.db import migrations
from django.utils import timezone

TRIAL_CODENAME = "report_adverse_events"
SITE_CODENAME = "report_site_adverse_events"


def _permission(apps, app_label: str, model: str, codename: str, name: str):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=model)
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type, codename=codename, defaults={"name": name})
    return permission


def grant(apps, schema_editor):
    Assignment = apps.get_model("staffing", "Assignment")
    TrialGrant = apps.get_model("trials", "TrialUserObjectPermission")
    SiteGrant = apps.get_model("sites", "SiteUserObjectPermission")
    today = timezone.localdate()
    live = Assignment.objects.filter(start_date__lte=today).exclude(end_date__lt=today)
    on_trial = _permission(apps, "trials", "trial", TRIAL_CODENAME,
                           "Can enter adverse events at the trial's sites")
    on_site = _permission(apps, "sites", "site", SITE_CODENAME,
                          "Can enter adverse events at the site")
    trial_pairs = set(live.filter(role__in=["CRA", "MEDICAL_MONITOR"], site__isnull=True)
                      .values_list("user_id", "trial_id"))
    site_pairs = set(live.filter(role="CRA", site__isnull=False)
                     .values_list("user_id", "site_id"))
    TrialGrant.objects.bulk_create(
        [TrialGrant(user_id=u, content_object_id=t, permission=on_trial) for u, t in trial_pairs],
        ignore_conflicts=True)
    SiteGrant.objects.bulk_create(
        [SiteGrant(user_id=u, content_object_id=s, permission=on_site) for u, s in site_pairs],
        ignore_conflicts=True)


class Migration(migrations.Migration):

    dependencies = [
        ("staffing", "0006_signing_lock_signature_invalidation_api_token"),
        ("trials", "0007_report_adverse_events_permission"),
        ("sites", "0008_report_adverse_events_permission"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
