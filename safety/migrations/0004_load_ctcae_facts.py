"""Load the shipped CTCAE v5.0 facts table so AEs are coded out of the box on any machine."""

from django.conf import settings
from django.db import migrations


def load_facts(apps, schema_editor) -> None:
    from safety.ctcae import read_facts_file

    CtcaeTerm = apps.get_model("safety", "CtcaeTerm")
    known = set(CtcaeTerm.objects.values_list("meddra_code", flat=True))
    rows = [r for r in read_facts_file(settings.CTCAE_FACTS_FILE) if r["meddra_code"] not in known]
    CtcaeTerm.objects.bulk_create([CtcaeTerm(**row) for row in rows], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("safety", "0003_initial")]
    operations = [migrations.RunPython(load_facts, migrations.RunPython.noop)]
