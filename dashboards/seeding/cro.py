"""`seed_demo --scale cro`: the steps in the order their ids are needed, in one transaction."""

import time
from datetime import timedelta

from django.db import connection, transaction

from dashboards.seeding import people, structure
from dashboards.seeding.bulk import Writer
from dashboards.seeding.cases import Cases
from dashboards.seeding.work import Work
from dashboards.seeding.world import Size, World
from sites.models import SITE_ENROLLMENT_REBUILD, Site
from trials.models import Trial

BUSY_RECORD_CHANGES = 2000


@transaction.atomic
def seed_cro(*, fraction: float, out, demo_password) -> World:
    started = time.monotonic()
    world = World(size=Size.scaled(fraction), writer=Writer(out))
    steps = [
        ("organisations and staff", lambda: _people(world, demo_password)),
        ("trials", lambda: structure.trials(world, world.sponsor_ids)),
        ("sites", lambda: structure.sites(world)),
        ("assignments and permissions",
         lambda: people.assignments(world, world.people, world.sponsor_ids)),
        ("documents", lambda: structure.documents(world)),
        ("subjects", lambda: structure.subjects(world)),
        ("site enrollment counts", _site_enrollment),
        ("training", lambda: people.training(world, world.people)),
        ("adverse events and their clocks", lambda: Cases(world).write()),
        ("visits, expiries, milestones, tasks", lambda: Work(world).write()),
        ("audit trails", lambda: _history(world)),
        ("sequences and statistics", world.writer.finish),
    ]
    for label, step in steps:
        began = time.monotonic()
        step()
        out.write(f"{label}: {time.monotonic() - began:.1f} s")
    world.writer.report()
    out.write(f"CRO-scale demo data written in {time.monotonic() - started:.0f} s.")
    return world


def _site_enrollment() -> None:
    """Each site's subjects counted, as the subject services keep them (SiteEnrollment)."""
    with connection.cursor() as cursor:
        cursor.execute(SITE_ENROLLMENT_REBUILD)


def _people(world: World, demo_password) -> None:
    world.sponsor_ids = people.organisations(world)
    world.people = people.staff(world, world.sponsor_ids, demo_password)


def _history(world: World) -> None:
    """A created entry in the audit trail of every trial and site, and a busy record: the
    busiest site, edited 2,000 times by its CRM (the bench's audit trail)."""
    crm = world.crm_of[world.trials[0].pk]
    Trial.history.bulk_history_create(world.trials, default_user=None,
                                      default_change_reason="Seeded", default_date=world.now)
    sites = list(Site.objects.filter(trial__in=world.trials).order_by("pk"))
    Site.history.bulk_history_create(sites, default_user=None, default_change_reason="Seeded",
                                     default_date=world.now)
    busy = sites[0]
    historical = Site.history.model
    rows = []
    for change in range(1, BUSY_RECORD_CHANGES + 1):
        busy.target_enrollment = 600 + change % 50
        row = historical(**{f.attname: getattr(busy, f.attname) for f in Site._meta.fields})
        row.revision = change + 1
        row.history_date = world.now - timedelta(hours=BUSY_RECORD_CHANGES - change)
        row.history_type, row.history_user_id = "~", crm
        row.history_change_reason = f"Enrollment target revised (change {change})"
        rows.append(row)
    world.writer.insert(historical, rows)
