"""The regulatory safety rules of DOMAIN Part A (A1-A3) as small pure functions.

No Django, no database: the case service feeds these functions what it has stored (facts and
their receipt times) and persists what they return. Sources: 21 CFR 312.32; EU CTR 536/2014
Art. 41-42 and Annex III; ICH E2A (DOMAIN B §1, §2).
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Frameworks (DOMAIN A1).
FDA_IND = "FDA_IND"
EU_CTR = "EU_CTR"
FRAMEWORKS = (FDA_IND, EU_CTR)
_FRAMEWORK_LABELS = {FDA_IND: "FDA IND", EU_CTR: "EU CTR"}

# Rules (DOMAIN A3).
FDA_IND_7_DAY = "FDA_IND_7_DAY"
FDA_IND_15_DAY = "FDA_IND_15_DAY"
EU_CTR_7_DAY = "EU_CTR_7_DAY"
EU_CTR_8_DAY_FOLLOW_UP = "EU_CTR_8_DAY_FOLLOW_UP"
EU_CTR_15_DAY = "EU_CTR_15_DAY"
FDA_IND_FOLLOW_UP = "FDA_IND_FOLLOW_UP"
EU_CTR_FOLLOW_UP = "EU_CTR_FOLLOW_UP"
RULES = (FDA_IND_7_DAY, FDA_IND_15_DAY, EU_CTR_7_DAY, EU_CTR_8_DAY_FOLLOW_UP, EU_CTR_15_DAY,
         FDA_IND_FOLLOW_UP, EU_CTR_FOLLOW_UP)

# Recipients (DOMAIN A3).
FDA = "FDA"
EU_EUDRAVIGILANCE = "EU_EUDRAVIGILANCE"
INVESTIGATORS = "INVESTIGATORS"
ETHICS_COMMITTEE = "ETHICS_COMMITTEE"
RECIPIENTS = (FDA, EU_EUDRAVIGILANCE, INVESTIGATORS, ETHICS_COMMITTEE)

# Report types.
INITIAL = "initial"
FOLLOW_UP = "follow_up"

# Kinds of information received (DOMAIN A2).
REPORT = "initial"
FOLLOW_UP_INFO = "follow_up"
REVIEW = "review"
INFORMATION_KINDS = (REPORT, FOLLOW_UP_INFO, REVIEW)

# Assessments (DOMAIN A1; B §1.2).
RELATED = "related"
NOT_RELATED = "not_related"
EXPECTED = "expected"
UNEXPECTED = "unexpected"
DEATH = "death"
LIFE_THREATENING = "life_threatening"
CRITERIA = (DEATH, LIFE_THREATENING, "hospitalization", "disability", "congenital_anomaly",
            "important_medical_event")


@dataclass(frozen=True)
class Facts:
    """The case's classification facts (DOMAIN A1). Blank assessments ("") mean not assessed."""

    criteria: frozenset[str]
    investigator_causality: str | None
    sponsor_causality: str | None
    expectedness: str | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "criteria", frozenset(self.criteria))
        for name, allowed in (("investigator_causality", (RELATED, NOT_RELATED)),
                              ("sponsor_causality", (RELATED, NOT_RELATED)),
                              ("expectedness", (EXPECTED, UNEXPECTED))):
            value = getattr(self, name) or None
            if value is not None and value not in allowed:
                raise ValueError(f"{name} must be one of {allowed} or None, not {value!r}")
            object.__setattr__(self, name, value)
        unknown = self.criteria - set(CRITERIA)
        if unknown:
            raise ValueError(f"Unknown seriousness criteria: {sorted(unknown)}")


@dataclass(frozen=True)
class Information:
    """One receipt of information; `facts` is the whole case as it stood after it (DOMAIN A2)."""

    received_at: datetime
    kind: str
    facts: Facts

    def __post_init__(self) -> None:
        _require_aware(self.received_at)
        if self.kind not in INFORMATION_KINDS:
            raise ValueError(f"kind must be one of {INFORMATION_KINDS}, not {self.kind!r}")


@dataclass(frozen=True)
class Owed:
    """One reporting obligation: one rule to one recipient from one clock start (DOMAIN A3)."""

    rule: str
    framework: str
    recipient: str
    report_type: str
    clock_start_at: datetime
    days: int


History = Sequence[Information]
Condition = Callable[[Facts], bool]


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"An aware datetime is required, not {moment!r}")


def _check_framework(framework: str) -> str:
    if framework not in _FRAMEWORK_LABELS:
        raise ValueError(f"Unknown framework: {framework!r}")
    return _FRAMEWORK_LABELS[framework]


# ------------------------------------------------------------------ classification (A1)


def frameworks(*, ind_number: str, eu_ct_number: str) -> tuple[str, ...]:
    """FDA IND when the trial has an IND number, EU CTR when it has an EU CT number.

    DOMAIN A1 (which frameworks apply); 21 CFR 312.32; EU CTR Art. 42.
    """
    applicable = []
    if (ind_number or "").strip():
        applicable.append(FDA_IND)
    if (eu_ct_number or "").strip():
        applicable.append(EU_CTR)
    return tuple(applicable)


def is_serious(facts: Facts) -> bool:
    """Serious = any of the six criteria; severity grade never implies it.

    DOMAIN A1, B §1.2-1.3; ICH E2A; 21 CFR 312.32(a).
    """
    return bool(facts.criteria)


def fatal_or_life_threatening(facts: Facts) -> bool:
    """Death or life-threatening among the criteria. DOMAIN A3; 21 CFR 312.32(c)(2); CTR Art. 42."""
    return DEATH in facts.criteria or LIFE_THREATENING in facts.criteria


def related(facts: Facts, *, framework: str) -> bool:
    """Related for a framework; not assessed (None) is not related.

    DOMAIN A1. FDA IND: the sponsor's assessment where given, else the investigator's
    (21 CFR 312.32(a)). EU CTR: related if either says so; the sponsor cannot downgrade the
    investigator (EU CTR Annex III §2.1).
    """
    _check_framework(framework)
    if framework == FDA_IND:
        said = facts.sponsor_causality
        if said is None:
            said = facts.investigator_causality
        return said == RELATED
    return RELATED in (facts.investigator_causality, facts.sponsor_causality)


def unexpected(facts: Facts) -> bool:
    """The sponsor assessed it unexpected against the RSI; not assessed is not (yet) unexpected.

    DOMAIN A1, B §1.6; ICH E2A; EU CTR Annex III §2.2.
    """
    return facts.expectedness == UNEXPECTED


def is_susar(facts: Facts, *, framework: str) -> bool:
    """SUSAR under a framework = serious ∧ unexpected ∧ related (for that framework).

    DOMAIN A1; 21 CFR 312.32(a), (c)(1)(i); EU CTR Art. 42, Annex III §2.
    """
    _check_framework(framework)
    return is_serious(facts) and unexpected(facts) and related(facts, framework=framework)


# ------------------------------------------------------------------ clock starts (A2)


def _run_start(history: History, condition: Condition) -> int | None:
    """Index of the information that began the run in which `condition` holds up to now."""
    start = None
    for index in range(len(history) - 1, -1, -1):
        if not condition(history[index].facts):
            break
        start = index
    return start


def became_at(history: History, condition: Condition) -> datetime | None:
    """Receipt time of the information that started the current run in which `condition` holds.

    None when it does not hold on the latest facts; a case that stops meeting the condition and
    meets it again starts a new run. DOMAIN A2 (receipt time of a criterion); ICH E2A Day 0.
    """
    index = _run_start(history, condition)
    return None if index is None else history[index].received_at


def susar_determined_at(history: History, *, frameworks: Sequence[str]) -> datetime | None:
    """The earliest receipt time at which the case was a SUSAR under any framework (first ever).

    DOMAIN A2 (`susar_determined_at`); 21 CFR 312.32(c)(1); EU CTR Art. 42.
    """
    for framework in frameworks:
        _check_framework(framework)
    for info in history:
        if any(is_susar(info.facts, framework=f) for f in frameworks):
            return info.received_at
    return None


# ------------------------------------------------------------------ obligations (A3)


def _before(moment: datetime, submitted: datetime | None) -> bool:
    return submitted is None or moment < submitted


def _flt_susar_since(history: History, susar: Condition) -> datetime | None:
    return became_at(history, lambda facts: susar(facts) and fatal_or_life_threatening(facts))


def _fda_initial(history: History, *, start: int, submitted: datetime | None,
                 susar: Condition) -> list[Owed]:
    """DOMAIN A3 FDA_IND_15_DAY (FDA, investigators) and FDA_IND_7_DAY; 21 CFR 312.32(c)."""
    clock = history[start].received_at
    owed = [Owed(FDA_IND_15_DAY, FDA_IND, recipient, INITIAL, clock, 15)
            for recipient in (FDA, INVESTIGATORS)]
    fatal_at = _flt_susar_since(history, susar)
    if fatal_at is not None and _before(fatal_at, submitted):
        owed.append(Owed(FDA_IND_7_DAY, FDA_IND, FDA, INITIAL, fatal_at, 7))
    return owed


def _eu_initial(history: History, *, start: int, submitted: datetime | None,
                susar: Condition) -> list[Owed]:
    """DOMAIN A3 EU_CTR_15_DAY, EU_CTR_7_DAY and its 8-day follow-up; EU CTR Art. 42(2)."""
    owed = []
    if not fatal_or_life_threatening(history[start].facts):
        clock = history[start].received_at
        owed.append(Owed(EU_CTR_15_DAY, EU_CTR, EU_EUDRAVIGILANCE, INITIAL, clock, 15))
    fatal_at = _flt_susar_since(history, susar)
    if fatal_at is not None and _before(fatal_at, submitted):
        owed.append(Owed(EU_CTR_7_DAY, EU_CTR, EU_EUDRAVIGILANCE, INITIAL, fatal_at, 7))
        owed.append(Owed(EU_CTR_8_DAY_FOLLOW_UP, EU_CTR, EU_EUDRAVIGILANCE, FOLLOW_UP,
                         fatal_at, 15))
    return owed


def _follow_ups(history: History, *, framework: str, submitted: datetime | None,
                susar: Condition) -> list[Owed]:
    """DOMAIN A3 FDA_IND_FOLLOW_UP / EU_CTR_FOLLOW_UP; 21 CFR 312.32(d); EU CTR Art. 42."""
    if submitted is None:
        return []
    recipients: tuple[str, ...]
    if framework == FDA_IND:
        rule, recipients = FDA_IND_FOLLOW_UP, (FDA, INVESTIGATORS)
    else:
        rule, recipients = EU_CTR_FOLLOW_UP, (EU_EUDRAVIGILANCE,)
    owed = []
    for index, info in enumerate(history):
        if info.kind != FOLLOW_UP_INFO or info.received_at <= submitted:
            continue
        if not susar(info.facts):
            continue
        was_flt = index > 0 and fatal_or_life_threatening(history[index - 1].facts)
        days = 7 if fatal_or_life_threatening(info.facts) and not was_flt else 15
        owed += [Owed(rule, framework, recipient, FOLLOW_UP, info.received_at, days)
                 for recipient in recipients]
    return owed


def _owed_under(history: History, *, framework: str, submitted: datetime | None) -> list[Owed]:
    def susar(facts: Facts) -> bool:
        return is_susar(facts, framework=framework)

    start = _run_start(history, susar)
    if start is None:
        return []
    owed = []
    if _before(history[start].received_at, submitted):
        initial = _fda_initial if framework == FDA_IND else _eu_initial
        owed += initial(history, start=start, submitted=submitted, susar=susar)
    return owed + _follow_ups(history, framework=framework, submitted=submitted, susar=susar)


def obligations_owed(history: History, *, frameworks: Sequence[str],
                     first_submitted: Mapping[str, datetime]) -> list[Owed]:
    """Every reporting obligation the case's history owes, ordered by (clock, rule, recipient).

    DOMAIN A3 (the table and its notes); 21 CFR 312.32(c)(1), (c)(2), (d); EU CTR Art. 42;
    ICH E2A. `first_submitted[framework]` is when the first initial report under that framework
    was submitted. One Owed per (rule, recipient, clock start); if two receipts share a clock
    start the shorter deadline wins.
    """
    if not history:
        raise ValueError("history must hold at least the initial report")
    owed: dict[tuple[str, str, datetime], Owed] = {}
    for framework in frameworks:
        _check_framework(framework)
        submitted = first_submitted.get(framework)
        for item in _owed_under(history, framework=framework, submitted=submitted):
            key = (item.rule, item.recipient, item.clock_start_at)
            if key not in owed or item.days < owed[key].days:
                owed[key] = item
    return sorted(owed.values(), key=lambda o: (o.clock_start_at, o.rule, o.recipient))


def _unrelated_reason(facts: Facts, *, framework: str) -> str:
    if framework == FDA_IND:
        if facts.sponsor_causality is not None:
            return "not related (sponsor's assessment)"
        if facts.investigator_causality is not None:
            return "not related (investigator's assessment)"
    elif NOT_RELATED in (facts.investigator_causality, facts.sponsor_causality):
        return "not related by either assessment"
    return "causality not assessed"


def cancellation_reason(facts: Facts, *, framework: str) -> str | None:
    """Why the case is no longer a SUSAR under `framework`; None while it still is one.

    DOMAIN A3 (only a change that makes the case no longer a SUSAR under that framework cancels
    its open obligations); A1 for the three conditions; 21 CFR 312.32(a); EU CTR Annex III §2.
    """
    label = _check_framework(framework)
    if is_susar(facts, framework=framework):
        return None
    reasons = []
    if not is_serious(facts):
        reasons.append("not serious")
    if facts.expectedness == EXPECTED:
        reasons.append("assessed as expected")
    elif facts.expectedness is None:
        reasons.append("expectedness not assessed")
    if not related(facts, framework=framework):
        reasons.append(_unrelated_reason(facts, framework=framework))
    return f"No longer a SUSAR under {label}: {', '.join(reasons)}"


# ------------------------------------------------------------------ day counting (A2, A3)


def _zone(name: str) -> tzinfo:
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return UTC


def day_zero(moment: datetime, *, zone: str) -> date:
    """The calendar date of `moment` in the IANA zone `zone` (unknown or empty: UTC).

    DOMAIN A2 (Day 0 in the trial's safety time zone), B §2.3; ICH E2A.
    """
    _require_aware(moment)
    return moment.astimezone(_zone(zone)).date()


def due_on(clock_start_at: datetime, *, days: int, zone: str) -> date:
    """Day 0 + `days` calendar days. DOMAIN A2, B §2.3; UK SI 2004/1031 reg 34 wording."""
    return day_zero(clock_start_at, zone=zone) + timedelta(days=days)


def on_time(submitted_at: datetime, *, due_on: date, zone: str) -> bool:
    """Submitted on or before `due_on`, read in the trial's safety time zone. DOMAIN A2, B §2.3."""
    return day_zero(submitted_at, zone=zone) <= due_on


def site_report_late(*, serious: bool, site_awareness_at: datetime | None,
                     sponsor_awareness_at: datetime | None) -> bool:
    """A serious AE reaching the sponsor more than 24 h after the site learned of it.

    DOMAIN A3 (site timeliness), B §2.1; EU CTR Art. 41(2); ICH E6 4.11.1. Missing times: not
    flagged (nothing to measure).
    """
    if not serious or site_awareness_at is None or sponsor_awareness_at is None:
        return False
    return sponsor_awareness_at - site_awareness_at > timedelta(hours=24)


def medical_review_due_on(*, clock_start_at: datetime, days: int, zone: str) -> date:
    """The medical monitor's review deadline: Day 0 + `days` (per-trial setting). DOMAIN A3."""
    return due_on(clock_start_at, days=days, zone=zone)
