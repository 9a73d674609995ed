"""The CRO-scale seed's people: organisations, 3,000 staff, their assignments and the object
permissions those grant (exactly what `permissions_sync` would write), GCP training."""

from datetime import timedelta
from decimal import Decimal
from math import ceil

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model

from access.checks import grant_tables
from access.roles import Role, permissions_for
from dashboards.seeding.world import (
    SITES_PER_CRA,
    TRIALS_PER_CRM,
    TRIALS_PER_MONITOR,
    TRIALS_PER_SPONSOR,
    World,
)
from staffing.models import Assignment, Organisation, TrainingRecord, User

FIRST = ["Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Greta", "Hugo", "Ines", "Jonas",
         "Keiko", "Luca", "Maya", "Nils", "Olga", "Pablo", "Rosa", "Sven", "Tara", "Yusuf"]
LAST = ["Adams", "Becker", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Horvat", "Ivanova",
        "Jensen", "Kowalski", "Larsen", "Moreau", "Novak", "Okafor", "Petrov", "Rossi", "Silva",
        "Tanaka", "Weber"]
ZONES = ["Europe/Berlin", "America/New_York", "Europe/London", "UTC", "Europe/Warsaw"]
SPONSOR_NAMES = ["Aurora Therapeutics", "Borealis Pharma"]
DEMO = {  # username: (first, last, description)
    "admin": ("Ada", "Admin", "administrator"),
    "crm": ("Clara", "Manager", "CRM of 10 trials (the largest among them)"),
    "cra": ("Carlos", "Associate", "CRA of 8 sites (the busiest among them)"),
    "monitor": ("Mei", "Monitor", "medical monitor of 20 trials"),
    "sponsor_a": ("Sam", "Aurora", "sponsor viewer, Aurora Therapeutics' 15 trials"),
    "sponsor_b": ("Bea", "Borealis", "sponsor viewer, Borealis Pharma's 15 trials"),
}


def organisations(world: World) -> list[int]:
    """The CRO and one sponsor per 15 trials; returns the sponsors' ids in trial order."""
    writer, first = world.writer, world.writer.next_id(Organisation)
    count = max(2, ceil(world.size.trials / TRIALS_PER_SPONSOR))
    names = SPONSOR_NAMES + [f"{LAST[i % 20]} {['Biologics', 'Pharma', 'Bio'][i % 3]} {i:02d}"
                             for i in range(2, count)]
    rows = [Organisation(id=first, name="Meridian Clinical Research", kind="CRO")]
    rows += [Organisation(id=first + 1 + i, name=name, kind="SPONSOR")
             for i, name in enumerate(names)]
    writer.insert(Organisation, rows)
    world.cro_id = first
    return [first + 1 + i for i in range(count)]


def staff(world: World, sponsor_ids: list[int], demo_password) -> dict[str, list[int]]:
    """Every person, by role: CRMs, medical monitors, CRAs, sponsor viewers (two per sponsor,
    by sponsor), and CRO staff between projects; the demo users are the first of each."""
    size, next_id = world.size, world.writer.next_id(User)
    plan = {"CRM": ceil(size.trials / TRIALS_PER_CRM),
            "MEDICAL_MONITOR": ceil(size.trials / TRIALS_PER_MONITOR),
            "CRA": ceil(size.sites / SITES_PER_CRA), "SPONSOR_VIEWER": 2 * len(sponsor_ids)}
    plan["OTHER"] = max(0, size.staff - 1 - sum(plan.values()))
    demo_of = {"CRM": "crm", "MEDICAL_MONITOR": "monitor", "CRA": "cra"}
    rows, ids = [_demo_user(next_id, "admin", world.cro_id, demo_password)], {}
    world.admin_id = world.users["admin"] = next_id
    for role, count in plan.items():
        ids[role] = []
        for index in range(count):
            next_id += 1
            org = sponsor_ids[index // 2] if role == "SPONSOR_VIEWER" else world.cro_id
            demo = demo_of.get(role) if index == 0 else None
            if role == "SPONSOR_VIEWER" and index in (0, 2):
                demo = "sponsor_a" if index == 0 else "sponsor_b"
            if demo:
                rows.append(_demo_user(next_id, demo, org, demo_password))
                world.users[demo] = next_id
            else:
                rows.append(_staff_user(next_id, role, index, org))
            ids[role].append(next_id)
    world.writer.insert(User, rows)
    return ids


def _demo_user(pk: int, username: str, org: int, demo_password) -> User:
    first, last, _ = DEMO[username]
    return User(id=pk, username=username, first_name=first, last_name=last, organisation_id=org,
                email=f"{username}@example.org", password=make_password(demo_password(username)),
                is_staff=username == "admin", is_superuser=username == "admin")


def _staff_user(pk: int, role: str, index: int, org: int) -> User:
    name = f"{role.lower().replace('_', '-')}-{index + 1:04d}"
    return User(id=pk, username=name, first_name=FIRST[pk % 20], last_name=LAST[(pk // 20) % 20],
                organisation_id=org, email=f"{name}@example.org", password=make_password(None),
                timezone=ZONES[pk % len(ZONES)])


def assignments(world: World, people: dict[str, list[int]], sponsor_ids: list[int]) -> None:
    """CRMs of 10 trials, monitors of 20, CRAs of 8 sites, sponsor viewers of their sponsor's
    trials; then the permission rows those grant."""
    rows: list[Assignment] = []
    for index, trial in enumerate(world.trials):
        start = world.trial_start[trial.pk]
        crm = people["CRM"][index // TRIALS_PER_CRM]
        monitor = people["MEDICAL_MONITOR"][index // TRIALS_PER_MONITOR]
        world.crm_of[trial.pk], world.monitor_of[trial.pk] = crm, monitor
        rows.append(Assignment(user_id=crm, trial_id=trial.pk, role=Role.CRM, start_date=start,
                               allocation=Decimal("0.1")))
        rows.append(Assignment(user_id=monitor, trial_id=trial.pk, role=Role.MEDICAL_MONITOR,
                               start_date=start, allocation=Decimal("0.05")))
        viewers = people["SPONSOR_VIEWER"]
        for viewer in viewers[2 * sponsor_ids.index(trial.sponsor_id):][:2]:
            rows.append(Assignment(user_id=viewer, trial_id=trial.pk,
                                   role=Role.SPONSOR_VIEWER, start_date=start))
    for index, site in enumerate(world.sites):
        cra = people["CRA"][index // SITES_PER_CRA]
        world.cra_of[site.id] = cra
        rows.append(Assignment(user_id=cra, trial_id=site.trial_id, site_id=site.id,
                               role=Role.CRA, start_date=world.trial_start[site.trial_id],
                               allocation=Decimal("0.12")))
    world.writer.insert(Assignment, rows)
    _permissions(world, rows)


def _permissions(world: World, rows: list[Assignment]) -> None:
    trial_table, site_table = grant_tables()
    wanted: dict[type[Model], set[tuple[int, int, str]]] = {trial_table: set(), site_table: set()}
    for assignment in rows:
        trial_codes, site_codes = permissions_for(assignment.role,
                                                  site_scoped=assignment.site_id is not None)
        wanted[trial_table] |= {(assignment.user_id, assignment.trial_id, c) for c in trial_codes}
        wanted[site_table] |= {(assignment.user_id, assignment.site_id, c) for c in site_codes}
    for table, grants in wanted.items():
        target = table._meta.get_field("content_object").related_model
        permission = dict(Permission.objects.filter(
            content_type=ContentType.objects.get_for_model(target))
            .values_list("codename", "pk"))
        world.writer.insert(table, (
            table(user_id=user, content_object_id=obj, permission_id=permission[code])
            for user, obj, code in sorted(grants)))


def training(world: World, people: dict[str, list[int]]) -> None:
    """A GCP certificate per CRO staff member (three-year validity); the demo CRA's runs out
    within the month, so its reminders show."""
    rows, first = [], world.writer.next_id(TrainingRecord)
    cro_staff = [world.admin_id] + [u for role in ("CRM", "MEDICAL_MONITOR", "CRA", "OTHER")
                                    for u in people[role]]
    for offset, user in enumerate(cro_staff):
        completed = world.day(world.today - timedelta(days=3 * 365 - 20),
                              world.today - timedelta(days=10))
        if user == world.users["cra"]:
            completed = world.today - timedelta(days=3 * 365 - 18)
        expires = completed + timedelta(days=3 * 365)
        rows.append(TrainingRecord(id=first + offset, user_id=user, kind="gcp",
                                   title="ICH E6(R3) GCP", completed_on=completed,
                                   expires_on=expires))
        world.trainings.append((first + offset, user, expires))
    world.writer.insert(TrainingRecord, rows)
