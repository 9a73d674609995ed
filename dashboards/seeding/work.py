"""The CRO-scale seed's working deadlines: 120,000 monitoring visits and their reports, document
and training expiries, milestones, and people's tasks up to the 1,000,000 deadlines of a CRO
(most long done: a CRO keeps years of them)."""

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from django.contrib.contenttypes.models import ContentType

from dashboards.seeding.schedule import deadline
from dashboards.seeding.world import World
from reminders.models import Deadline
from sites.models import EssentialDocument, Site
from staffing.models import TrainingRecord
from trials.models import Milestone, Trial


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


class Work:
    def __init__(self, world: World) -> None:
        self.world = world
        self.next_id = world.writer.next_id(Deadline)
        self.types = {m: ContentType.objects.get_for_model(m).pk
                      for m in (Site, Trial, EssentialDocument, TrainingRecord, Milestone)}
        self.protocol = {t.pk: t.protocol_number for t in world.trials}

    def write(self) -> None:
        writer = self.world.writer
        for rows in (self._visits(), self._expiries(), self._milestones()):
            self.world.deadlines_written += writer.insert(Deadline, rows)
        self.world.deadlines_written += writer.insert(Deadline, self._tasks())

    def _row(self, **fields) -> Deadline:
        self.next_id += 1
        return deadline(now=self.world.now, id=self.next_id - 1, **fields)

    def _visits(self) -> Iterator[Deadline]:
        """Visits every few weeks from activation (the last one ahead), each past visit with
        its report due a week later; one site in ten has its latest report still open."""
        world = self.world
        opened = [s for s in world.sites if s.activated_on]
        for site, count in zip(opened, world.spread(world.size.visits, len(opened)), strict=True):
            opened_on = site.activated_on or world.today
            span = max(1, (world.today + timedelta(days=42) - opened_on).days)
            days = sorted({opened_on + timedelta(days=int(span * (i + 1) / count))
                           for i in range(count)})
            cra, crm = world.cra_of[site.id], world.crm_of[site.trial_id]
            common = {"content_type_id": self.types[Site], "object_id": site.id,
                      "trial_id": site.trial_id, "url": f"/sites/{site.id}/", "owner_id": cra,
                      "escalation_user_id": crm}
            where = f"{self.protocol[site.trial_id]} site {site.number}"
            for index, day in enumerate(days):
                past = day < world.today
                visit = self._row(kind="monitoring_visit", key=f"seed-visit-{index}",
                                  title=f"Interim monitoring visit, {where}",
                                  due_at=_midnight(day) + timedelta(hours=9),
                                  done_at=_midnight(day) + timedelta(hours=17) if past else None,
                                  **common)
                yield visit
                if past:
                    yield self._report(visit, day, latest=days[index + 1] > world.today
                                       if index + 1 < len(days) else True, where=where)

    def _report(self, visit: Deadline, day: date, *, latest: bool, where: str) -> Deadline:
        world = self.world
        due = _midnight(day + timedelta(days=7)) + timedelta(hours=17)
        done = None
        if due <= world.now and not (latest and world.rng.random() < 0.1):
            done = min(world.now, due - timedelta(hours=world.rng.randrange(-30, 100)))
        return self._row(kind="visit_report", key=f"seed-report-{visit.key}",
                         title=f"Visit report, {where}", due_at=due, done_at=done,
                         **{f: getattr(visit, f) for f in (
                             "content_type_id", "object_id", "trial_id", "url", "owner_id",
                             "escalation_user_id")})

    def _expiries(self) -> Iterator[Deadline]:
        world = self.world
        numbers = {s.id: s.number for s in world.sites}
        for doc_id, site_id, trial_id, expires in world.expiring_documents:
            yield self._row(
                kind="document_expiry", content_type_id=self.types[EssentialDocument],
                object_id=doc_id, trial_id=trial_id, url=f"/sites/{site_id}/",
                title=f"Laboratory certification expires at site {numbers[site_id]} "
                      f"({self.protocol[trial_id]})",
                owner_id=world.cra_of[site_id], escalation_user_id=world.crm_of[trial_id],
                due_at=_midnight(expires), due_on=expires)
        for record_id, user_id, expires in world.trainings:
            yield self._row(
                kind="training_expiry", content_type_id=self.types[TrainingRecord],
                object_id=record_id, trial_id=None, url="/staff/training/",
                title="GCP training expires", owner_id=user_id, escalation_user_id=None,
                due_at=_midnight(expires), due_on=expires)

    def _milestones(self) -> Iterator[Deadline]:
        world = self.world
        for milestone_id, trial_id, kind, planned, actual in world.milestones:
            yield self._row(
                kind="milestone", content_type_id=self.types[Milestone], object_id=milestone_id,
                trial_id=trial_id, url=f"/trials/{trial_id}/",
                title=f"{kind.replace('_', ' ').capitalize()} planned ({self.protocol[trial_id]})",
                owner_id=world.crm_of[trial_id], escalation_user_id=None,
                due_at=_midnight(planned), due_on=planned,
                done_at=_midnight(actual) if actual else None)

    def _tasks(self) -> Iterator[Deadline]:
        """The rest up to the CRO's total: tasks the CRMs set themselves and their CRAs over
        each trial's life; done but for a few coming up and a few overdue."""
        world = self.world
        left = world.size.deadlines - world.deadlines_written
        if left <= 0 or not world.sites:
            return
        for index in range(left):
            site = world.sites[world.rng.randrange(len(world.sites))]
            crm, cra = world.crm_of[site.trial_id], world.cra_of[site.id]
            start = world.trial_start[site.trial_id]
            due = world.moment(world.day(start, world.today + timedelta(days=90)), hour=17)
            roll = world.rng.random()
            done = None if due > world.now or roll < 0.01 else due - timedelta(hours=roll * 48)
            owner = cra if index % 3 else crm
            yield self._row(
                kind="task", key=f"seed-task-{index}", content_type_id=self.types[Site],
                object_id=site.id, trial_id=site.trial_id, url=f"/sites/{site.id}/",
                title=f"Follow up query batch {index % 97 + 1} with site {site.number}",
                owner_id=owner, escalation_user_id=crm if owner != crm else None,
                due_at=due, done_at=done)
