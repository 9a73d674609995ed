"""The CRO-scale seed's sizes and the state its steps share (ids and dates of what was written,
kept as small tuples: the big tables are streamed, never held as model instances)."""

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.utils import timezone

from dashboards.seeding.bulk import Writer


@dataclass(frozen=True)
class Size:
    trials: int
    sites: int
    subjects: int
    adverse_events: int
    visits: int
    staff: int
    deadlines: int

    @classmethod
    def scaled(cls, fraction: float) -> "Size":
        """The issue's CRO (300 trials ... 1,000,000 deadlines) times `fraction`, kept large
        enough for the demo users' scopes (a medical monitor of 20 trials)."""
        trials = max(20, round(300 * fraction))
        sites = max(3 * trials, round(15_000 * fraction))
        subjects = max(8 * sites, round(150_000 * fraction))
        return cls(trials=trials, sites=sites, subjects=subjects,
                   adverse_events=max(2 * subjects, round(600_000 * fraction)),
                   visits=max(4 * sites, round(120_000 * fraction)),
                   staff=max(trials, round(3_000 * fraction)),
                   deadlines=round(1_000_000 * fraction))


FULL = Size.scaled(1.0)

# Sites per CRA, trials per CRM and per medical monitor, trials per sponsor (the demo scopes).
SITES_PER_CRA, TRIALS_PER_CRM, TRIALS_PER_MONITOR, TRIALS_PER_SPONSOR = 8, 10, 20, 15
BUSY_SITE_SUBJECTS = 600


@dataclass
class SiteRow:
    id: int
    trial_id: int
    number: str
    status: str
    activated_on: date | None


@dataclass
class World:
    size: Size
    writer: Writer
    rng: random.Random = field(default_factory=lambda: random.Random(20261203))  # noqa: S311
    today: date = field(default_factory=timezone.localdate)
    now: datetime = field(
        default_factory=lambda: timezone.now().replace(minute=0, second=0, microsecond=0))
    users: dict[str, int] = field(default_factory=dict)  # demo username -> id
    admin_id: int = 0
    cro_id: int = 0
    trials: list = field(default_factory=list)  # Trial instances (300)
    trial_start: dict[int, date] = field(default_factory=dict)
    crm_of: dict[int, int] = field(default_factory=dict)  # trial id -> user id
    monitor_of: dict[int, int] = field(default_factory=dict)
    sites: list[SiteRow] = field(default_factory=list)
    cra_of: dict[int, int] = field(default_factory=dict)  # site id -> user id
    icf_of: dict[int, int] = field(default_factory=dict)  # trial id -> consent version id
    # (subject id, site id, trial id, enrolled on, last day on study)
    enrolled: list[tuple[int, int, int, date, date]] = field(default_factory=list)
    expiring_documents: list[tuple[int, int, int, date]] = field(default_factory=list)
    trainings: list[tuple[int, int, date]] = field(default_factory=list)
    milestones: list[tuple[int, int, str, date, date | None]] = field(default_factory=list)
    deadlines_written: int = 0
    sponsor_ids: list[int] = field(default_factory=list)
    people: dict[str, list[int]] = field(default_factory=dict)  # role -> user ids

    def day(self, low: date, high: date) -> date:
        """A day in [low, high] (high if the range is empty)."""
        span = (high - low).days
        return high if span <= 0 else low + timedelta(days=self.rng.randrange(span + 1))

    def moment(self, day: date, hour: int | None = None) -> datetime:
        hour = self.rng.randrange(7, 19) if hour is None else hour
        return datetime(day.year, day.month, day.day, hour, self.rng.randrange(60),
                        tzinfo=timezone.get_current_timezone())

    def spread(self, total: int, parts: int, *, first: int | None = None) -> list[int]:
        """`total` split over `parts` unevenly (weights 1-9), summing exactly; `first` fixes
        the first part's share."""
        counts: list[int] = []
        if first is not None:
            first = min(first, total)
            counts, total, parts = [first], total - first, parts - 1
        weights = [self.rng.randint(1, 9) for _ in range(parts)]
        scale = total / sum(weights) if weights else 0
        shares = [int(w * scale) for w in weights]
        for index in range(total - sum(shares)):
            shares[index % len(shares)] += 1
        return counts + shares
