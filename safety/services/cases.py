"""An adverse-event case: entered by the site's CRA (or the medical monitor), changed only by
follow-ups as of their receipt and by the medical monitor's signed review. Every change keeps a
version of the case (its timeline) and re-evaluates its clocks (safety.services.obligations)."""

from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from access.checks import may_report_adverse_events, may_review_safety
from croportal.audit import audited_save
from croportal.concurrency import lock_for_update
from croportal.exceptions import ApplicationError
from croportal.formats import format_datetime
from safety.models import (
    SERIOUSNESS_CRITERIA,
    AdverseEvent,
    CaseVersion,
    Causality,
    CtcaeTerm,
    Expectedness,
    Outcome,
    ReviewStatus,
)
from safety.services.ctcae import ctcae_term_resolve
from safety.services.obligations import case_evaluate
from sites.models import Subject
from staffing.models import Signature, User
from staffing.services import signature_apply, signing_action

# The case's own data: what a report or a follow-up may give, and what each version records.
CASE_FIELDS = (
    "verbatim_term", "term", "onset_date", "end_date", "severity_grade", "seriousness_criteria",
    "outcome", "investigator_causality", "sponsor_causality", "expectedness", "rsi_version",
    "site_awareness_at", "sponsor_awareness_at", "narrative",
)
REQUIRED_FIELDS = ("verbatim_term", "onset_date", "severity_grade", "site_awareness_at",
                   "sponsor_awareness_at")
# The clock starts of the initial report: new information carries its own receipt time.
CLOCK_FIELDS = frozenset({"site_awareness_at", "sponsor_awareness_at"})
# The sponsor's assessments: the medical monitor's to give (a CRA reports the site's view).
SPONSOR_FIELDS = frozenset({"sponsor_causality", "expectedness", "rsi_version"})
CLOCK_SKEW = timedelta(minutes=5)


@transaction.atomic
def adverse_event_create(*, subject: Subject, by: User, **fields) -> AdverseEvent:
    """Record an adverse event reported by a site, coded to CTCAE v5; its clocks start."""
    subject = Subject.objects.select_related("site__trial").get(pk=subject.pk)
    if not may_report_adverse_events(user=by, site=subject.site):
        raise ApplicationError("Adverse events are entered by the site's CRA or the trial's "
                               "medical monitor.", status=403)
    _refuse_unknown(fields, allowed=CASE_FIELDS)
    missing = [name for name in REQUIRED_FIELDS if fields.get(name) in (None, "")]
    if missing:
        raise ApplicationError("This field is required.", field=missing[0])
    _refuse_sponsor_fields(fields, by=by, trial=subject.trial)
    fields["term"] = ctcae_term_resolve(term=fields.get("term"),
                                        meddra_code=fields.pop("meddra_code", None))
    event = AdverseEvent(subject=subject, trial=subject.trial, site=subject.site,
                         **{"seriousness_criteria": [], **fields})
    check_case(event=event)
    audited_save(event, by=by, reason="Adverse event recorded")
    _version(event, kind=CaseVersion.Kind.INITIAL, received_at=event.sponsor_awareness_at,
             by=by, changes={}, narrative=event.narrative)
    case_evaluate(event=event)
    return event


@transaction.atomic
def adverse_event_follow_up(
    *, event: AdverseEvent, by: User, information_received_at: datetime, changes: dict,
    narrative: str = "", expected_revision: int | None = None,
) -> CaseVersion:
    """New information about a case: its changes apply as of their receipt, and the clocks are
    evaluated again (an upgrade to fatal adds the 7-day obligations). A stale
    `expected_revision` (the case changed since the caller read it) is refused."""
    event = lock_for_update(event, expected_revision=expected_revision, related=("trial",))
    if not may_report_adverse_events(user=by, site=event.site):
        raise ApplicationError("Follow-ups are entered by the site's CRA or the trial's "
                               "medical monitor.", status=403)
    received_at = _check_receipt(event, information_received_at)
    if not isinstance(changes, dict):
        raise ApplicationError("Give the changed fields as an object.", field="changes")
    _refuse_unknown(changes, allowed=set(CASE_FIELDS) - CLOCK_FIELDS | {"meddra_code"},
                    clocks=CLOCK_FIELDS)
    if not changes and not (narrative or "").strip():
        raise ApplicationError("A follow-up brings changes or a narrative.", field="changes")
    _refuse_sponsor_fields(changes, by=by, trial=event.trial)
    changes = dict(changes)
    if "term" in changes or "meddra_code" in changes:
        changes["term"] = ctcae_term_resolve(term=changes.get("term", event.term),
                                             meddra_code=changes.pop("meddra_code", None))
    before = _facts_of(event)
    for name, value in changes.items():
        setattr(event, name, value)
    check_case(event=event)
    if event.serious:  # new information on a serious case needs the medical monitor again
        event.review_status = ReviewStatus.PENDING
    audited_save(event, by=by,
                 reason=f"Follow-up received {format_datetime(received_at, zone='UTC')}")
    version = _version(event, kind=CaseVersion.Kind.FOLLOW_UP, received_at=received_at, by=by,
                       changes=_changed(before, _facts_of(event)), narrative=narrative)
    case_evaluate(event=event)
    return version


@signing_action
def adverse_event_review(
    *, event: AdverseEvent, by: User, password: str, sponsor_causality: str,
    expectedness: str, comment: str = "", rsi_version: str | None = None,
) -> Signature:
    """Medical monitor's sign-off: sponsor causality and expectedness, e-signed (the password,
    the signing lock and the failure count are the signature service's; a refusal saves
    nothing). The rules are evaluated again as of the signing time."""
    if sponsor_causality not in Causality.values:
        raise ApplicationError("Choose related or not_related.", field="sponsor_causality")
    if expectedness not in Expectedness.values:
        raise ApplicationError("Choose expected or unexpected.", field="expectedness")
    event = AdverseEvent.objects.select_for_update().get(pk=event.pk)
    if not may_review_safety(user=by, trial=event.trial_id):
        raise ApplicationError("Only the trial's medical monitor may review this event.",
                               status=403)
    before = _facts_of(event)
    event.sponsor_causality, event.expectedness = sponsor_causality, expectedness
    if rsi_version and str(rsi_version).strip():  # empty: the case keeps its RSI version
        event.rsi_version = str(rsi_version).strip()[:100]
    event.review_status = ReviewStatus.REVIEWED
    audited_save(event, by=by, reason=f"Medical review: {comment}" if comment else "Medical review")
    signature = signature_apply(obj=event, by=by, password=password,
                                meaning=Signature.Meaning.MEDICALLY_REVIEWED, comment=comment)
    _version(event, kind=CaseVersion.Kind.REVIEW, received_at=signature.signed_at, by=by,
             changes=_changed(before, _facts_of(event)), narrative=comment)
    case_evaluate(event=event)
    return signature


# ---------------------------------------------------------------------------------- checks

def check_case(*, event: AdverseEvent) -> None:
    """The case's own consistency, as a 400 naming the field (every door)."""
    if not str(event.verbatim_term or "").strip():
        raise ApplicationError("Give the event as the site reported it.", field="verbatim_term")
    _check_grade(event.term, event.severity_grade)
    criteria = event.seriousness_criteria
    if not isinstance(criteria, list) or not all(isinstance(c, str) for c in criteria):
        raise ApplicationError("Give a list of seriousness criteria.",
                               field="seriousness_criteria")
    unknown = sorted(set(criteria) - set(SERIOUSNESS_CRITERIA))
    if unknown:
        raise ApplicationError(f"Unknown seriousness criteria: {unknown}; known: "
                               f"{', '.join(SERIOUSNESS_CRITERIA)}.", field="seriousness_criteria")
    event.seriousness_criteria = [c for c in SERIOUSNESS_CRITERIA if c in criteria]
    _check_choices(event)
    if event.severity_grade == 5 and event.outcome != Outcome.FATAL:
        raise ApplicationError("A grade 5 event is a death: its outcome is fatal.",
                               field="outcome")
    if event.outcome == Outcome.FATAL and "death" not in event.seriousness_criteria:
        raise ApplicationError("A fatal outcome makes the event serious: tick 'death'.",
                               field="seriousness_criteria")
    _check_dates(event)


def _check_grade(term: CtcaeTerm | None, grade) -> None:
    if isinstance(grade, bool) or not isinstance(grade, int) or not 1 <= grade <= 5:
        raise ApplicationError("The CTCAE grade is 1 to 5.", field="severity_grade")
    if term is not None and not term.has_grade(grade):
        raise ApplicationError(
            f"CTCAE v5 has no grade {grade} for {term.term} (grades {', '.join(term.grades)}).",
            field="severity_grade")


def _check_choices(event: AdverseEvent) -> None:
    for name, choices in (("outcome", Outcome), ("investigator_causality", Causality),
                          ("sponsor_causality", Causality), ("expectedness", Expectedness)):
        value = getattr(event, name)
        if value is not None and value not in choices.values and not (
                name == "outcome" and value == ""):
            raise ApplicationError(f"Choose one of {', '.join(choices.values)}.", field=name)
    if not event.outcome:
        event.outcome = Outcome.UNKNOWN


def _check_dates(event: AdverseEvent) -> None:
    for name in ("onset_date", "end_date"):
        value = getattr(event, name)
        if value is not None and (not isinstance(value, date) or isinstance(value, datetime)):
            raise ApplicationError("Give a date (YYYY-MM-DD).", field=name)
    if event.end_date and event.end_date < event.onset_date:
        raise ApplicationError("The event cannot end before its onset.", field="end_date")
    latest = timezone.now() + CLOCK_SKEW
    for name in ("site_awareness_at", "sponsor_awareness_at"):
        value = getattr(event, name)
        if not isinstance(value, datetime) or timezone.is_naive(value):
            raise ApplicationError("Give a date, a time and a time zone.", field=name)
        if value > latest:
            raise ApplicationError("This time is in the future.", field=name)
    if event.sponsor_awareness_at < event.site_awareness_at:
        raise ApplicationError("The sponsor cannot learn of the event before the site.",
                               field="sponsor_awareness_at")
    if event.onset_date > event.site_awareness_at.date() + timedelta(days=1):
        raise ApplicationError("The site cannot learn of the event before its onset.",
                               field="onset_date")


def _check_receipt(event: AdverseEvent, received_at) -> datetime:
    if not isinstance(received_at, datetime) or timezone.is_naive(received_at):
        raise ApplicationError("Give a date, a time and a time zone.",
                               field="information_received_at")
    if received_at > timezone.now() + CLOCK_SKEW:
        raise ApplicationError("This time is in the future.", field="information_received_at")
    latest = event.versions.order_by("-number").values_list("received_at", flat=True).first()
    if latest is not None and received_at < latest:
        raise ApplicationError(
            f"The case already holds information received {format_datetime(latest, zone='UTC')}: a "
            "follow-up is received after it.", field="information_received_at")
    return received_at


def _refuse_unknown(fields: dict, *, allowed, clocks=frozenset()) -> None:
    for name in fields:
        if name in clocks:
            raise ApplicationError("The initial report's clock start cannot change: new "
                                   "information carries its own receipt time.", field=name)
        if name not in allowed and name != "meddra_code":
            raise ApplicationError("Not a field of an adverse event.", field=str(name)[:50])


def _refuse_sponsor_fields(fields: dict, *, by: User, trial) -> None:
    given = sorted(name for name in SPONSOR_FIELDS
                   if fields.get(name) not in (None, ""))
    if given and not may_review_safety(user=by, trial=trial):
        raise ApplicationError("The sponsor's assessment is the medical monitor's, in the "
                               "signed review.", field=given[0])


# -------------------------------------------------------------------------------- versions

def _facts_of(event: AdverseEvent) -> dict:
    """The case's data as JSON: what a version records."""
    facts = {}
    for name in CASE_FIELDS:
        value = getattr(event, name)
        if name == "term":
            value = {"meddra_code": value.meddra_code, "term": value.term} if value else None
        elif isinstance(value, date | datetime):
            value = value.isoformat()
        facts[name] = value
    return facts


def _changed(before: dict, after: dict) -> dict:
    return {name: [before[name], after[name]] for name in after if before[name] != after[name]}


def _version(event: AdverseEvent, *, kind: str, received_at: datetime, by: User,
             changes: dict, narrative: str) -> CaseVersion:
    number = event.versions.count() + 1
    return CaseVersion.objects.create(
        adverse_event=event, number=number, kind=kind, received_at=received_at,
        facts=_facts_of(event), changes=changes, narrative=(narrative or "").strip(),
        recorded_by=by)
