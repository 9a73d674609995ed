"""The CRO-scale seed's adverse events: 600,000 cases whose clocks are the rules' own answer
(safety.rules over each case's timeline, as safety.services.obligations evaluates them), with
their versions, the medical monitor's signed reviews, the reporting obligations (old ones
submitted, on time or not) and the deadlines of both, written a chunk of cases at a time."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from dashboards.seeding.schedule import deadline
from dashboards.seeding.world import World
from reminders.models import Deadline
from safety import rules
from safety.models import AdverseEvent, CaseVersion, CtcaeTerm, ReportingObligation
from safety.services.obligations import RECIPIENT_NAMES, due_moment
from staffing.models import Signature, content_hash

CHUNK = 5000
GRADES = [1] * 50 + [2] * 30 + [3] * 14 + [4] * 4 + [5] * 2


@dataclass
class Batch:
    events: list = field(default_factory=list)
    versions: list = field(default_factory=list)
    signatures: list = field(default_factory=list)
    obligations: list = field(default_factory=list)
    deadlines: list = field(default_factory=list)


class Cases:
    def __init__(self, world: World) -> None:
        self.world = world
        self.terms = list(CtcaeTerm.objects.order_by("meddra_code").only(
            "id", "meddra_code", "term", "grades"))
        self.trials = {t.pk: t for t in world.trials}
        self.frameworks = {t.pk: rules.frameworks(ind_number=t.ind_number,
                                                  eu_ct_number=t.eu_ct_number)
                           for t in world.trials}
        self.types = {m: ContentType.objects.get_for_model(m).pk
                      for m in (AdverseEvent, ReportingObligation)}
        self.ae_url = reverse("safety:ae_detail", args=[999999999])
        self.next = {m: world.writer.next_id(m)
                     for m in (AdverseEvent, ReportingObligation, Deadline)}

    def write(self) -> None:
        world = self.world
        counts = world.spread(world.size.adverse_events, len(world.enrolled))
        batch = Batch()
        for subject, count in zip(world.enrolled, counts, strict=True):
            for _ in range(count):
                self._case(batch, subject)
            if len(batch.events) >= CHUNK:
                self._flush(batch)
                batch = Batch()
        self._flush(batch)

    def _flush(self, batch: Batch) -> None:
        writer = self.world.writer
        for model, rows in ((AdverseEvent, batch.events), (CaseVersion, batch.versions),
                            (Signature, batch.signatures),
                            (ReportingObligation, batch.obligations), (Deadline, batch.deadlines)):
            writer.insert(model, rows)
        self.world.deadlines_written += len(batch.deadlines)

    def _id(self, model) -> int:
        self.next[model] += 1
        return self.next[model] - 1

    def _case(self, batch: Batch, subject: tuple[int, int, int, date, date]) -> None:
        world, (subject_id, site_id, trial_id, enrolled_on, last_day) = self.world, subject
        event = self._event(subject_id, site_id, trial_id, enrolled_on, last_day)
        reporter, monitor = world.cra_of[site_id], world.monitor_of[trial_id]
        initial = _facts(event)
        history = [rules.Information(received_at=event.sponsor_awareness_at, kind=rules.REPORT,
                                     facts=initial)]
        batch.versions.append(_version(event, 1, "initial", event.sponsor_awareness_at, reporter))
        reviewed_at = None
        if event.seriousness_criteria and event.sponsor_awareness_at < world.now - timedelta(3):
            reviewed_at = self._review(batch, event, history, monitor)
        self._clocks(batch, event, history, reviewed_at)
        batch.events.append(event)

    def _event(self, subject_id, site_id, trial_id, enrolled_on, last_day) -> AdverseEvent:
        rng, world = self.world.rng, self.world
        term = rng.choice(self.terms)
        grade = rng.choice([g for g in GRADES if str(g) in term.grades] or [int(term.grades[0])])
        onset = world.day(enrolled_on, min(last_day, world.today - timedelta(days=1)))
        site_aware = world.moment(onset + timedelta(days=rng.randrange(3)))
        site_aware = min(site_aware, world.now - timedelta(hours=30))
        sponsor_aware = site_aware + timedelta(hours=rng.choice([2, 5, 20, 22, 30]))
        criteria = (["death"] if grade == 5 else ["life_threatening"] if grade == 4
                    else ["hospitalization"] if grade == 3 and rng.random() < 0.5
                    else ["important_medical_event"] if rng.random() < 0.01 else [])
        old = onset < world.today - timedelta(days=60)
        return AdverseEvent(
            id=self._id(AdverseEvent), subject_id=subject_id, trial_id=trial_id,
            site_id=site_id, verbatim_term=term.term.lower(), term=term, onset_date=onset,
            end_date=onset + timedelta(days=rng.randrange(1, 30)) if old and grade < 5 else None,
            severity_grade=grade, seriousness_criteria=criteria,
            outcome="fatal" if grade == 5 else "recovered" if old else "recovering",
            investigator_causality="related" if rng.random() < 0.35 else "not_related",
            site_awareness_at=site_aware, sponsor_awareness_at=sponsor_aware)

    def _review(self, batch: Batch, event, history, monitor) -> datetime:
        """The medical monitor's signed review a day after receipt: the sponsor's causality
        (mostly the investigator's) and expectedness against the investigator's brochure."""
        rng = self.world.rng
        at = event.sponsor_awareness_at + timedelta(hours=rng.randrange(4, 30))
        at = min(at, self.world.now - timedelta(hours=1))
        flip = rng.random() < 0.1
        event.sponsor_causality = (event.investigator_causality if not flip else
                                   "not_related" if event.investigator_causality == "related"
                                   else "related")
        event.expectedness = "unexpected" if rng.random() < 0.25 else "expected"
        event.rsi_version = "Investigator's brochure v4, section 6.2"
        event.review_status, event.revision = "reviewed", 2
        history.append(rules.Information(received_at=at, kind=rules.REVIEW, facts=_facts(event)))
        batch.versions.append(_version(event, 2, "review", at, monitor))
        batch.signatures.append(Signature(
            content_type_id=self.types[AdverseEvent], object_id=event.pk, signer_id=monitor,
            printed_name="Medical monitor", meaning="medically_reviewed", signed_at=at,
            content_hash=content_hash(event.signature_content())))
        return at

    def _clocks(self, batch: Batch, event, history, reviewed_at) -> None:
        trial = self.trials[event.trial_id]
        applicable, zone = self.frameworks[trial.pk], trial.safety_timezone
        latest = history[-1].facts
        event.is_susar = any(rules.is_susar(latest, framework=f) for f in applicable)
        event.susar_determined_at = rules.susar_determined_at(history, frameworks=applicable)
        event.site_report_late = rules.site_report_late(
            serious=rules.is_serious(latest), site_awareness_at=event.site_awareness_at,
            sponsor_awareness_at=event.sponsor_awareness_at)
        serious_since = rules.became_at(history, rules.is_serious)
        event.day_zero = serious_since and rules.day_zero(serious_since, zone=zone)
        if serious_since is not None:
            due = rules.medical_review_due_on(clock_start_at=serious_since,
                                              days=trial.medical_review_days, zone=zone)
            event.review_due_on = None if reviewed_at else due
            self._deadline(batch, event, kind="medical_review", object_type=AdverseEvent,
                           object_id=event.pk, due=due, done_at=reviewed_at,
                           title=f"Medical review of serious AE {event.pk} "
                                 f"({trial.protocol_number})")
        owed = rules.obligations_owed(history, frameworks=applicable, first_submitted={})
        open_due = [self._obligation(batch, event, trial, item) for item in owed]
        event.next_due_on = min((d for d in open_due if d is not None), default=None)

    def _obligation(self, batch: Batch, event, trial, owed: rules.Owed) -> date | None:
        """The obligation, submitted when its due date is more than two days past (3 % late);
        returns its due date while it is open."""
        world, zone = self.world, trial.safety_timezone
        due_on = rules.due_on(owed.clock_start_at, days=owed.days, zone=zone)
        row = ReportingObligation(
            id=self._id(ReportingObligation), adverse_event_id=event.pk, trial_id=trial.pk,
            rule=owed.rule, framework=owed.framework, recipient=owed.recipient,
            report_type=owed.report_type, clock_start_at=owed.clock_start_at, due_on=due_on)
        if due_on < world.today - timedelta(days=2):
            late = world.rng.random() < 0.03
            days = owed.days + 2 if late else world.rng.randrange(1, max(2, owed.days))
            row.status, row.submitted_by_id = "submitted", world.monitor_of[trial.pk]
            row.submitted_at = min(owed.clock_start_at + timedelta(days=days), world.now)
            row.reference = f"SR-{row.pk:08d}"
            row.on_time = rules.on_time(row.submitted_at, due_on=due_on, zone=zone)
        batch.obligations.append(row)
        recipient = RECIPIENT_NAMES.get(owed.recipient, owed.recipient)
        self._deadline(batch, event, kind="reporting_obligation",
                       object_type=ReportingObligation, object_id=row.pk, due=due_on,
                       done_at=row.submitted_at,
                       title=f"{owed.rule.replace('_', ' ')} report to {recipient}: "
                             f"AE {event.pk} ({trial.protocol_number})")
        return None if row.submitted_at else due_on

    def _deadline(self, batch: Batch, event, *, kind, object_type, object_id, due, done_at,
                  title) -> None:
        trial, world = self.trials[event.trial_id], self.world
        crm, monitor = world.crm_of[trial.pk], world.monitor_of[trial.pk]
        batch.deadlines.append(deadline(
            now=world.now, done_at=done_at, id=self._id(Deadline), kind=kind,
            content_type_id=self.types[object_type], object_id=object_id, trial_id=trial.pk,
            title=title, url=self.ae_url.replace("999999999", str(event.pk)), owner_id=monitor,
            escalation_user_id=crm if crm != monitor else None,
            due_at=due_moment(day=due, zone=trial.safety_timezone)))


def _facts(event: AdverseEvent) -> rules.Facts:
    return rules.Facts(criteria=frozenset(event.seriousness_criteria),
                       investigator_causality=event.investigator_causality,
                       sponsor_causality=event.sponsor_causality,
                       expectedness=event.expectedness)


def _version(event: AdverseEvent, number: int, kind: str, at: datetime, by: int) -> CaseVersion:
    facts = {
        "verbatim_term": event.verbatim_term,
        "term": {"meddra_code": event.term.meddra_code, "term": event.term.term},
        "onset_date": event.onset_date.isoformat(),
        "end_date": event.end_date and event.end_date.isoformat(),
        "severity_grade": event.severity_grade,
        "seriousness_criteria": list(event.seriousness_criteria), "outcome": event.outcome,
        "investigator_causality": event.investigator_causality,
        "sponsor_causality": event.sponsor_causality, "expectedness": event.expectedness,
        "rsi_version": event.rsi_version, "site_awareness_at": event.site_awareness_at.isoformat(),
        "sponsor_awareness_at": event.sponsor_awareness_at.isoformat(), "narrative": "",
    }
    changes = {} if number == 1 else {
        "sponsor_causality": [None, event.sponsor_causality],
        "expectedness": [None, event.expectedness], "rsi_version": ["", event.rsi_version]}
    return CaseVersion(adverse_event_id=event.pk, number=number, kind=kind, received_at=at,
                       facts=facts, changes=changes, recorded_by_id=by)
