"""The CRO-scale seed's trials and what hangs off them: milestones, ICF versions, sites and their
activation documents, subjects and their consents."""

from datetime import date, timedelta

from dashboards.seeding.world import BUSY_SITE_SUBJECTS, TRIALS_PER_SPONSOR, SiteRow, World
from sites.models import (
    ConsentRecord,
    EssentialDocument,
    Site,
    SiteConsentVersion,
    Subject,
)
from sites.services import required_document_kinds
from trials.models import ConsentVersion, Milestone, Trial

AREAS = [("Oncology", "Non-small cell lung cancer"), ("Endocrinology", "Type 2 diabetes"),
         ("Dermatology", "Plaque psoriasis"), ("Cardiology", "Heart failure"),
         ("Neurology", "Relapsing multiple sclerosis"), ("Rheumatology", "Rheumatoid arthritis")]
CITIES = [("US", "Boston"), ("US", "Houston"), ("DE", "Berlin"), ("FR", "Lyon"), ("ES", "Madrid"),
          ("GB", "Leeds"), ("PL", "Warsaw"), ("IT", "Milan"), ("CA", "Toronto"), ("NL", "Utrecht"),
          ("BE", "Leuven"), ("CZ", "Brno"), ("HU", "Debrecen"), ("SE", "Uppsala")]
SAFETY_ZONES = ["UTC", "Europe/Berlin", "America/New_York"]
SITE_TARGET = 12  # subjects a site is to enroll; a trial's target is the sum of its sites'
# Trial status by age: the oldest trials are in follow-up or done, the youngest starting up.
STATUS_BY_AGE = [(1200, "completed"), (900, "follow_up"), (700, "enrollment_closed"),
                 (120, "enrolling"), (0, "startup")]


def trials(world: World, sponsor_ids: list[int]) -> None:
    first, rows = world.writer.next_id(Trial), []
    for index in range(world.size.trials):
        age = world.rng.randrange(60, 1500) if index else 500  # the largest is mid-life
        start = world.today - timedelta(days=age)
        area, indication = AREAS[index % len(AREAS)]
        sponsor = sponsor_ids[min(index // TRIALS_PER_SPONSOR, len(sponsor_ids) - 1)]
        trial = Trial(
            id=first + index, protocol_number=f"MCR-{2000 + index}", sponsor_id=sponsor,
            title=f"A randomised study of MCR-{700 + index} in {indication.lower()}",
            phase=["I", "I/II", "II", "II/III", "III", "IV"][index % 6], therapeutic_area=area,
            indication=indication, status=next(s for days, s in STATUS_BY_AGE if age >= days),
            ind_number=f"{130000 + index}" if index % 10 < 7 else "",
            eu_ct_number=f"2024-5{index:05d}-12-00" if index % 10 >= 4 or index == 0 else "",
            investigational_product=f"MCR-{700 + index}",
            safety_timezone=SAFETY_ZONES[index % 3], medical_review_days=1)
        rows.append(trial)
        world.trial_start[trial.pk] = start
    world.writer.insert(Trial, rows)
    world.trials = rows
    _milestones(world)
    _consent_versions(world)


def _milestones(world: World) -> None:
    rows, first = [], world.writer.next_id(Milestone)
    plan = [("protocol_final", -60), ("first_site_activated", 45), ("fpi", 75), ("lpi", 600),
            ("lpo", 900), ("database_lock", 1000)]
    for trial in world.trials:
        start = world.trial_start[trial.pk]
        for kind, offset in plan:
            baseline = start + timedelta(days=offset)
            planned = baseline + timedelta(days=world.rng.randrange(0, 60))
            actual = planned if planned <= world.today else None
            rows.append(Milestone(id=first + len(rows), trial_id=trial.pk, kind=kind,
                                  baseline_date=baseline, planned_date=planned,
                                  actual_date=actual))
            world.milestones.append((first + len(rows) - 1, trial.pk, kind, planned, actual))
    world.writer.insert(Milestone, rows)


def _consent_versions(world: World) -> None:
    first = world.writer.next_id(ConsentVersion)
    rows = [ConsentVersion(id=first + i, trial_id=t.pk, version="1.0")
            for i, t in enumerate(world.trials)]
    world.writer.insert(ConsentVersion, rows)
    world.icf_of = {row.trial_id: row.pk for row in rows}


def sites(world: World) -> None:
    """Sites per trial uneven, the first trial the largest (8 % of all sites); activated
    sites get their ICF approval and their approved activation documents."""
    per_trial = world.spread(world.size.sites, world.size.trials,
                             first=world.size.sites * 8 // 100)
    next_id, rows = world.writer.next_id(Site), []
    for trial, count in zip(world.trials, per_trial, strict=True):
        for number in range(1, count + 1):
            rows.append(_site(world, trial, next_id, number))
            next_id += 1
    world.writer.insert(Site, rows)
    world.sites = [SiteRow(s.pk, s.trial_id, s.number, s.status, s.activated_on) for s in rows]
    for trial, count in zip(world.trials, per_trial, strict=True):  # the sites' targets
        trial.target_enrollment = count * SITE_TARGET
    Trial.objects.bulk_update(world.trials, ["target_enrollment"], batch_size=1000)
    opened = [s for s in world.sites if s.activated_on]
    world.writer.insert(SiteConsentVersion, (
        SiteConsentVersion(site_id=s.id, consent_version_id=world.icf_of[s.trial_id],
                           ethics_approved_on=s.activated_on - timedelta(days=40),
                           effective_on=s.activated_on - timedelta(days=30)) for s in opened))


def _site(world: World, trial: Trial, pk: int, number: int) -> Site:
    start = world.trial_start[trial.pk]
    country, city = CITIES[(pk + number) % len(CITIES)]
    opens = world.day(start + timedelta(days=45), start + timedelta(days=400))
    roll = world.rng.random()
    if number == 1 or (opens <= world.today and roll < 0.88):
        status = "closed" if trial.status == "completed" else "active"
    else:
        status, opens = ("selected" if roll < 0.95 else "qualified"), None
    activated = min(opens, world.today - timedelta(days=30)) if opens else None
    return Site(
        id=pk, trial_id=trial.pk, number=f"{number:03d}", country=country, city=city,
        institution=f"{city} University Hospital {number}",
        principal_investigator=f"Dr. {FIRST_PI[pk % len(FIRST_PI)]} {number}", status=status,
        target_enrollment=SITE_TARGET, activated_on=activated,
        planned_activation_on=start + timedelta(days=60 + number % 300),
        contract_executed_on=activated and activated - timedelta(days=20),
        initiation_visit_on=activated and activated - timedelta(days=2))


FIRST_PI = ["Alvarez", "Brandt", "Chen", "Duarte", "Eriksen", "Fontaine", "Gupta", "Haas"]


def documents(world: World) -> None:
    """The activation documents of each opened site, filed by its CRA and approved by the CRM
    (four eyes); some laboratory certificates run out within the next two months."""
    opened = [s for s in world.sites if s.activated_on]
    kinds = {t.pk: required_document_kinds(trial=t) for t in world.trials}
    next_id = world.writer.next_id(EssentialDocument)

    def rows():
        nonlocal next_id
        for site in opened:
            filed = site.activated_on - timedelta(days=35)
            for kind in kinds[site.trial_id]:
                expires = None
                if kind == "lab_certification":
                    expires = world.day(world.today - timedelta(days=5),
                                        world.today + timedelta(days=700))
                    world.expiring_documents.append((next_id, site.id, site.trial_id, expires))
                yield EssentialDocument(
                    id=next_id, site_id=site.id, kind=kind, version="1", effective_on=filed,
                    expires_on=expires if expires is None or expires > filed else None,
                    status="approved", filed_by_id=world.cra_of.get(site.id),
                    reviewed_by_id=world.crm_of.get(site.trial_id),
                    reviewed_at=world.moment(filed + timedelta(days=2)))
                next_id += 1
    world.writer.insert(EssentialDocument, rows())


def subjects(world: World) -> None:
    """Subjects of the opened sites (the first site of the first trial holds 600), each with
    their consent; world.enrolled keeps those who took the drug, for their adverse events."""
    opened = [s for s in world.sites if s.activated_on]
    busy = min(BUSY_SITE_SUBJECTS, world.size.subjects // 10)
    counts = world.spread(world.size.subjects, len(opened), first=busy)
    first = world.writer.next_id(Subject)
    rows: list[Subject] = []
    for site, count in zip(opened, counts, strict=True):
        for n in range(1, count + 1):
            rows.append(_subject(world, site, first + len(rows), n))
    world.writer.insert(Subject, rows)
    world.writer.insert(ConsentRecord, (
        ConsentRecord(subject_id=s.pk, consent_version_id=world.icf_of[s.trial_id],
                      consented_on=s.consented_on, obtained_by="Study nurse") for s in rows))
    for s in rows:
        if s.enrolled_on:
            last = s.completed_on or s.withdrawn_on or world.today
            world.enrolled.append((s.pk, s.site_id, s.trial_id, s.enrolled_on, last))


def _subject(world: World, site: SiteRow, pk: int, n: int) -> Subject:
    activated = site.activated_on or world.today
    screened = world.day(activated, world.today - timedelta(days=1))
    roll = world.rng.random()
    subject = Subject(id=pk, site_id=site.id, trial_id=site.trial_id,
                      number=f"{site.number}-{n:04d}", screened_on=screened,
                      consented_on=screened, consent_version="1.0", status="screening")
    enrolled = screened + timedelta(days=14)
    if roll < 0.15:
        subject.status, subject.screen_failed_on = "screen_failed", _not_after(
            screened + timedelta(days=10), world.today)
    elif enrolled <= world.today:
        subject.status, subject.enrolled_on = "enrolled", enrolled
        ends = enrolled + timedelta(days=180)
        if roll > 0.95:
            subject.status, subject.withdrawn_on = "withdrawn", _not_after(
                enrolled + timedelta(days=40), world.today)
            subject.withdrawal_reason = "Withdrew consent"
        elif ends <= world.today:
            subject.status, subject.completed_on = "completed", ends
    return subject


def _not_after(day: date, limit: date) -> date:
    return min(day, limit)
