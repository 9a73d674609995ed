"""`seed_demo --scale cro`: the CRO's shape at a small fraction (the full size is the bench's),
rows as the services would have written them, deterministic, and usable by every role."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse

from access.checks import grant_tables
from dashboards.management.commands.seed_demo import demo_password
from dashboards.seeding.cro import seed_cro
from dashboards.seeding.world import Size
from reminders.models import Deadline
from safety.models import AdverseEvent, ReportingObligation
from safety.services.obligations import case_evaluate
from sites.models import Site, Subject
from staffing.models import Assignment, Organisation, User
from staffing.services.assignments import permissions_sync
from trials.models import Trial

FRACTION = 0.002


@pytest.fixture
def seeded(db, settings):
    settings.DEBUG = True
    out = StringIO()
    call_command("seed_demo", "--scale", "cro", "--fraction", str(FRACTION), stdout=out)
    return out.getvalue()


def test_it_writes_the_cro_s_volumes_scaled(seeded):
    size = Size.scaled(FRACTION)
    assert Trial.objects.count() == size.trials
    assert Site.objects.count() == size.sites
    assert Subject.objects.count() == size.subjects
    assert AdverseEvent.objects.count() == size.adverse_events
    assert Deadline.objects.count() == size.deadlines
    assert User.objects.count() == size.staff
    assert Deadline.objects.filter(kind="monitoring_visit").count() == size.visits
    assert "demo-cra-portal" in seeded
    # The id sequences were moved past the ids the seed chose: the services write on after it.
    after = Organisation.objects.create(name="After the seed", kind="SPONSOR")
    assert after.pk > Trial.objects.get(protocol_number="MCR-2000").sponsor_id
    # The full size is the CRO.
    assert Size.scaled(1.0) == Size(trials=300, sites=15_000, subjects=150_000,
                                    adverse_events=600_000, visits=120_000, staff=3_000,
                                    deadlines=1_000_000)


def test_demo_users_hold_realistic_scopes(seeded):
    def scope(username, role):
        return Assignment.objects.filter(user__username=username, role=role)

    assert scope("crm", "CRM").count() == 10
    assert scope("monitor", "MEDICAL_MONITOR").count() == 20
    assert scope("cra", "CRA").exclude(site=None).count() == 8
    sponsor = User.objects.get(username="sponsor_a")
    trials = Trial.objects.filter(assignments__in=scope("sponsor_a", "SPONSOR_VIEWER"))
    assert trials.count() == 15
    assert set(trials.values_list("sponsor", flat=True)) == {sponsor.organisation_id}
    assert User.objects.get(username="crm").check_password("demo-crm-portal")


def test_permission_rows_are_those_the_assignment_service_grants(seeded):
    trial_table, site_table = grant_tables()

    def rows():
        return (set(trial_table.objects.values_list("user", "content_object", "permission")),
                set(site_table.objects.values_list("user", "content_object", "permission")))

    before = rows()
    assert before[0]
    assert before[1]
    for user_id, trial_id in set(Assignment.objects.values_list("user", "trial")):
        permissions_sync(user=User(pk=user_id), trial=Trial(pk=trial_id))
    assert rows() == before


def test_case_clocks_are_those_the_rules_service_stores(seeded):
    fields = ("is_susar", "susar_determined_at", "site_report_late", "review_due_on",
              "day_zero", "next_due_on")
    serious = AdverseEvent.objects.exclude(seriousness_criteria=[]).order_by("pk")
    assert serious.filter(review_status="reviewed").exists()
    assert serious.filter(review_status="pending").exists()
    assert ReportingObligation.objects.filter(status="submitted").exists()

    def state():
        return (list(serious.values_list(*fields)),
                sorted(ReportingObligation.objects.values_list("adverse_event", "rule",
                                                               "recipient", "due_on", "status")),
                sorted(Deadline.objects.filter(kind__in=["medical_review",
                                                         "reporting_obligation"])
                       .values_list("kind", "object_id", "due_at", "state", "owner")))

    before = state()
    for event in serious:
        case_evaluate(event=event)
    assert state() == before


def test_it_is_deterministic(db):
    def snapshot():
        return (list(AdverseEvent.objects.order_by("pk").values_list(
                    "subject__number", "term__meddra_code", "severity_grade", "is_susar")),
                list(Deadline.objects.order_by("pk").values_list("kind", "due_at", "state")))

    shots = []
    for _ in range(2):
        with transaction.atomic():
            seed_cro(fraction=FRACTION, out=StringIO(), demo_password=demo_password)
            shots.append(snapshot())
            transaction.set_rollback(True)
    assert shots[0] == shots[1]
    assert shots[0][0]


def test_every_demo_user_s_pages_open_on_it(seeded, client):
    for username, page in [("crm", "dashboards:home"), ("cra", "dashboards:home"),
                           ("monitor", "safety:queue"), ("sponsor_a", "dashboards:home"),
                           ("cra", "reminders:my_deadlines"), ("crm", "staffing:workload")]:
        client.force_login(User.objects.get(username=username))
        assert client.get(reverse(page)).status_code == 200, (username, page)


def test_every_trial_has_the_enrollment_target_of_its_sites(seeded):
    """A target lets the portfolio plan and forecast each trial, as it does with real data."""
    from django.db.models import Sum

    trials = list(Trial.objects.annotate(sites_target=Sum("sites__target_enrollment")))
    assert all(t.target_enrollment == (t.sites_target or 0) for t in trials)
    assert sum(1 for t in trials if t.target_enrollment > 0) >= len(trials) * 0.9


def test_site_enrollment_counts_are_those_the_subject_services_keep(seeded):
    from sites.models import SiteEnrollment
    from sites.services.subjects import site_enrollment_refresh

    def counts():
        return sorted(SiteEnrollment.objects.values_list(
            "site_id", "screened_count", "screen_failed_count", "enrolled_total",
            "screening_count", "withdrawn_count"))

    seeded_counts = counts()
    assert len(seeded_counts) == Site.objects.count()
    assert sum(row[1] for row in seeded_counts) == Subject.objects.count()
    with transaction.atomic():
        for site_id in Site.objects.values_list("pk", flat=True):
            site_enrollment_refresh(site_id=site_id)
        assert counts() == seeded_counts
        transaction.set_rollback(True)
