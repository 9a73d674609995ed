"""Copy each case's trial and site from its subject, then make them required."""

import django.db.models.deletion
from django.db import migrations, models


def copy_from_subject(apps, schema_editor):
    AdverseEvent = apps.get_model("safety", "AdverseEvent")
    for event in AdverseEvent.objects.select_related("subject").iterator():
        AdverseEvent.objects.filter(pk=event.pk).update(
            trial_id=event.subject.trial_id, site_id=event.subject.site_id)


class Migration(migrations.Migration):

    dependencies = [
        ("safety", "0007_cases_versions_obligations"),
    ]

    operations = [
        migrations.RunPython(copy_from_subject, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="adverseevent",
            name="trial",
            field=models.ForeignKey(editable=False, on_delete=django.db.models.deletion.PROTECT,
                                    related_name="adverse_events", to="trials.trial"),
        ),
        migrations.AlterField(
            model_name="adverseevent",
            name="site",
            field=models.ForeignKey(editable=False, on_delete=django.db.models.deletion.PROTECT,
                                    related_name="adverse_events", to="sites.site"),
        ),
    ]
