import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from access.codenames import ADD_TRIAL
from dashboards.seeding.cro import seed_cro
from dashboards.seeding.people import DEMO as CRO_DEMO_USERS
from reminders.services import deadline_create_manual
from safety.models import CtcaeTerm
from safety.services import adverse_event_create, adverse_event_review
from sites.services import (
    consent_record,
    document_create,
    document_update,
    required_document_kinds,
    site_consent_version_add,
    site_create,
    site_transition,
    site_update,
    subject_screen,
    subject_transition,
)
from staffing.models import Organisation, Role, User
from staffing.services import assignment_start, training_record_create
from trials.services import (
    amendment_create,
    consent_version_create,
    milestone_create,
    trial_create,
)

SCALES = {
    "small": {"trials": 3, "sites": 4, "subjects": 10},
    "large": {"trials": 12, "sites": 25, "subjects": 30},
}
AREAS = [("Endocrinology", "Type 2 diabetes"), ("Dermatology", "Plaque psoriasis"),
         ("Oncology", "Non-small cell lung cancer")]
COUNTRIES = [("US", "Boston"), ("DE", "Berlin"), ("FR", "Lyon"), ("ES", "Madrid"),
             ("GB", "Leeds"), ("PL", "Warsaw"), ("IT", "Milan"), ("CA", "Toronto")]
DEMO_USERS = [
    # username, first, last, organisation key, role description
    ("admin", "Ada", "Admin", "cro", "administrator"),
    ("crm", "Clara", "Manager", "cro", "CRM of every demo trial"),
    ("cra", "Carlos", "Associate", "cro", "CRA of the first two sites of each trial"),
    ("monitor", "Mei", "Monitor", "cro", "medical monitor of every demo trial"),
    ("sponsor_a", "Sam", "Aurora", "aurora", "sponsor viewer, Aurora Therapeutics' trials"),
    ("sponsor_b", "Bea", "Borealis", "borealis", "sponsor viewer, Borealis Pharma's trials"),
]

CRO_DEMO = [(name, description) for name, (_, _, description) in CRO_DEMO_USERS.items()]


class Command(BaseCommand):
    help = "Deterministic demo data: a CRO, two sponsors, trials, sites, subjects, AEs, staff."

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=[*sorted(SCALES), "cro"], default="small",
                            help="cro: a mid-size CRO (300 trials, 15,000 sites, 150,000 "
                                 "subjects, 600,000 AEs, 1,000,000 deadlines), bulk-inserted")
        parser.add_argument("--fraction", type=float, default=1.0,
                            help="With --scale cro: that share of the CRO's volume (0.01 for a "
                                 "quick look at its shape).")

    def handle(self, *args, scale: str, fraction: float, **options):
        if not 0 < fraction <= 1:
            raise CommandError("--fraction is above 0 and at most 1.")
        if Organisation.objects.filter(name="Meridian Clinical Research").exists():
            self.stdout.write("Demo data already present; nothing to do.")
        else:
            if not CtcaeTerm.objects.exists():
                raise CommandError("The CTCAE dictionary is empty: run migrate first.")
            if scale == "cro":
                seed_cro(fraction=fraction, out=self.stdout, demo_password=demo_password)
            else:
                self._seed(SCALES[scale])
        self._print_logins(CRO_DEMO if scale == "cro" else DEMO_USERS)

    @transaction.atomic
    def _seed(self, scale: dict) -> None:
        rng = random.Random(20261122)  # noqa: S311 - demo data, reproducible on purpose
        orgs = {
            "cro": Organisation.objects.create(name="Meridian Clinical Research", kind="CRO"),
            "aurora": Organisation.objects.create(name="Aurora Therapeutics", kind="SPONSOR"),
            "borealis": Organisation.objects.create(name="Borealis Pharma", kind="SPONSOR"),
        }
        users = {}
        for username, first, last, org, _ in DEMO_USERS:
            users[username] = User.objects.create_user(
                username=username, first_name=first, last_name=last, organisation=orgs[org],
                email=f"{username}@example.org", password=demo_password(username),
                is_staff=username == "admin", is_superuser=username == "admin",
            )
        users["crm"].user_permissions.add(Permission.objects.get(codename=ADD_TRIAL))
        terms = list(CtcaeTerm.objects.filter(grades__contains="3").order_by("meddra_code")[:60])
        for index in range(scale["trials"]):
            sponsor_key = "aurora" if index % 3 != 2 else "borealis"
            self._trial(rng, index, orgs[sponsor_key], users, sponsor_key, terms, scale)
        self._training(users)
        self.stdout.write(self.style.SUCCESS("Demo data created."))

    def _training(self, users) -> None:
        """GCP certificates: the CRA's runs out within the month, so its reminders show."""
        today = timezone.localdate()
        for username, completed in (("crm", today - timedelta(days=400)),
                                    ("monitor", today - timedelta(days=200)),
                                    ("cra", today - timedelta(days=3 * 365 - 18))):
            training_record_create(user=users[username], kind="gcp", completed_on=completed,
                                   by=users["admin"], title="ICH E6(R3) GCP")

    def _trial(self, rng, index, sponsor, users, sponsor_key, terms, scale) -> None:
        admin, crm = users["admin"], users["crm"]
        product = f"{['AUR', 'BOR'][index % 3 == 2]}-{100 + index}"
        area, indication = AREAS[index % 3]
        trial = trial_create(
            by=crm, protocol_number=f"{sponsor.name[:3].upper()}-{101 + index}",
            title=f"A randomised, double-blind study of {product} in {indication.lower()}",
            sponsor=sponsor, phase=["II", "III", "I/II"][index % 3],
            therapeutic_area=area, indication=indication,
            status="enrolling", target_enrollment=scale["sites"] * scale["subjects"],
            ind_number=f"{120000 + index}", eu_ct_number=f"2025-50{index:04d}-12-00",
            investigational_product=product,
        )
        assignment_start(user=users["monitor"], trial=trial, role=Role.MEDICAL_MONITOR, by=admin,
                         allocation=Decimal("0.2"))
        assignment_start(user=users[f"sponsor_{sponsor_key[0]}"], trial=trial,
                         role=Role.SPONSOR_VIEWER, by=admin)
        self._plan(trial, crm, index)
        icf = consent_version_create(trial=trial, by=crm, version="1.0")
        for number in range(1, scale["sites"] + 1):
            self._site(rng, trial, number, index, users, terms, scale, icf)
        if index == 0:
            self._revised_icf(trial, crm)

    def _site(self, rng, trial, number, index, users, terms, scale, icf) -> None:
        admin, crm = users["admin"], users["crm"]
        country, city = COUNTRIES[(number + index) % len(COUNTRIES)]
        opens = date(2026, 3, 1) + timedelta(days=7 * number)
        site = site_create(
            trial=trial, by=crm, number=f"{number:03d}", country=country, city=city,
            institution=f"{city} University Hospital",
            principal_investigator=f"Dr. PI {number}", status="qualified",
            target_enrollment=scale["subjects"], planned_activation_on=opens,
        )
        if number <= 2:
            assignment_start(user=users["cra"], trial=trial, site=site, role=Role.CRA,
                             by=admin, allocation=Decimal("0.15"))
        if number % 4:
            site = self._activate(site, crm, admin, opens, expiring=number == 1)
            site_consent_version_add(site=site, consent_version=icf, by=crm,
                                     ethics_approved_on=date(2026, 2, 1),
                                     effective_on=date(2026, 2, 15))
            self._subjects(rng, trial, site, crm, terms, scale["subjects"], icf,
                           reporter=users["monitor"])
        else:
            site_transition(site=site, to="selected", by=crm, reason="Feasibility passed")
        if number <= 2:
            self._deadlines(trial, site, users, index, number)

    def _revised_icf(self, trial, crm) -> None:
        """A revised ICF took effect at site 001 last week: its active subjects re-consent."""
        revised = consent_version_create(trial=trial, by=crm, version="2.0",
                                         summary="New hepatic safety information")
        first = trial.sites.get(number="001")
        today = timezone.localdate()
        site_consent_version_add(site=first, consent_version=revised, by=crm,
                                 ethics_approved_on=today - timedelta(days=12),
                                 effective_on=today - timedelta(days=7))
        subject = first.subjects.filter(status="enrolled").order_by("number").first()
        if subject is not None:
            consent_record(subject=subject, consent_version=revised, by=crm,
                           consented_on=today - timedelta(days=2), obtained_by="Study nurse")

    def _plan(self, trial, crm, index) -> None:
        """Milestones: the start-up done, FPI reached late, LPI and database lock ahead."""
        today = timezone.localdate()
        slip = 7 * index
        for kind, baseline, actual in (
            ("protocol_final", date(2025, 11, 3), date(2025, 11, 10)),
            ("first_site_activated", date(2026, 3, 1), date(2026, 3, 8)),
            ("fpi", date(2026, 3, 20), date(2026, 4, 1)),
            ("lpi", date(2027, 3, 31), None),
            ("lpo", date(2027, 9, 30), None),
            ("database_lock", date(2027, 12, 15), None),
        ):
            planned = baseline + timedelta(days=slip) if actual is None else actual
            milestone_create(trial=trial, by=crm, kind=kind, baseline_date=baseline,
                             planned_date=planned,
                             actual_date=actual if actual and actual <= today else None)
        amendment_create(trial=trial, by=crm, version="2.0", approved_on=date(2026, 6, 12),
                         summary="Extra safety laboratory visit at week 4")

    def _activate(self, site, crm, admin, opens, *, expiring: bool):
        """File the activation documents (the CRM files, the administrator approves: four
        eyes), execute the contract, hold the SIV, activate."""
        today = timezone.localdate()
        opens = min(opens, today)
        filed = opens - timedelta(days=30)
        for kind in required_document_kinds(trial=site.trial):
            expires = None
            if kind == "lab_certification":  # two-year certificates; one runs out soon
                expires = today + timedelta(days=20) if expiring else filed + timedelta(days=730)
            document = document_create(site=site, by=crm, kind=kind, version="1",
                                       effective_on=filed, expires_on=expires)
            document_update(document=document, by=admin, reason="Reviewed", status="approved")
        for to in ("selected", "initiated"):
            site = site_transition(site=site, to=to, by=crm, reason="Start-up progressing")
        site = site_update(site=site, by=crm, reason="Contract executed, SIV held",
                           contract_executed_on=filed, initiation_visit_on=opens - timedelta(2))
        return site_transition(site=site, to="active", by=crm, reason="Green light", on=opens)

    def _deadlines(self, trial, site, users, index, number) -> None:
        """A CRA's working weeks: visits coming up, a report overdue, a CRM's follow-up."""
        now = timezone.now().replace(minute=0, second=0, microsecond=0)
        crm, cra = users["crm"], users["cra"]
        deadline_create_manual(
            by=crm, kind="monitoring_visit", trial=trial, site=site, owner=cra,
            due_at=now + timedelta(days=9 + 11 * index + 5 * number),
            title=f"Interim monitoring visit, {trial.protocol_number} site {site.number}")
        if number == 1:
            deadline_create_manual(
                by=crm, kind="visit_report", trial=trial, site=site, owner=cra,
                due_at=now - timedelta(days=1 + index),
                title=f"Visit report, {trial.protocol_number} site {site.number}")
            deadline_create_manual(
                by=crm, kind="task", trial=trial, owner=crm,
                due_at=now + timedelta(days=2 + index),
                title=f"Review the enrollment plan of {trial.protocol_number}")

    def _subjects(self, rng, trial, site, by, terms, count, icf, *, reporter) -> None:
        for n in range(1, count + 1):
            screened = date(2026, 4, 1) + timedelta(days=rng.randrange(0, 150))
            status = rng.choice(["enrolled"] * 6 + ["screening", "screen_failed", "completed"])
            enrolled = status in {"enrolled", "completed"}
            subject = subject_screen(site=site, by=by, number=f"{site.number}-{n:03d}",
                                     consent_version=icf, consented_on=screened)
            if status == "screen_failed":
                subject_transition(subject=subject, to=status, on=screened + timedelta(days=10),
                                   by=by)
            if enrolled:
                subject = subject_transition(subject=subject, to="enrolled", by=by,
                                             on=screened + timedelta(days=14))
            if status == "completed":
                subject_transition(subject=subject, to="completed", by=by,
                                   on=min(screened + timedelta(days=84), timezone.localdate()))
            if enrolled and rng.random() < 0.4:
                term = rng.choice(terms)
                grade = int(rng.choice(term.grades))
                aware = min(datetime.combine(screened + timedelta(days=30), time(9), tzinfo=UTC),
                            timezone.now() - timedelta(days=2))
                criteria = ["death"] if grade == 5 else ["hospitalization"] if grade >= 3 else []
                event = adverse_event_create(
                    subject=subject, by=reporter, verbatim_term=term.term.lower(), term=term,
                    onset_date=aware.date() - timedelta(days=1), severity_grade=grade,
                    seriousness_criteria=criteria, outcome="fatal" if grade == 5 else "unknown",
                    investigator_causality=rng.choice(["related", "not_related"]),
                    site_awareness_at=aware,
                    sponsor_awareness_at=aware + timedelta(hours=rng.choice([3, 20, 30])),
                )
                if criteria and rng.random() < 0.5:  # the monitor's review makes SUSARs
                    adverse_event_review(event=event, by=reporter,
                                         password=demo_password(reporter.username),
                                         sponsor_causality="related",
                                         expectedness=rng.choice(["expected", "unexpected"]),
                                         rsi_version="Investigator's brochure v3, section 6")

    def _print_logins(self, users) -> None:
        self.stdout.write("Demo logins:")
        for username, *_, description in users:
            secret = demo_password(username) if settings.DEBUG else "(hidden: DEBUG is off)"
            self.stdout.write(f"  {username:<10} {secret:<28} {description}")


def demo_password(username: str) -> str:
    """Demo accounts only: the password is shown by seed_demo when DEBUG is on."""
    return f"demo-{username}-portal"
