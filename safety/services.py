from django.db import transaction

from croportal.audit import audited_save
from croportal.exceptions import ApplicationError
from safety.models import SERIOUSNESS_CRITERIA, AdverseEvent, Causality, CtcaeTerm, Expectedness
from sites.models import Subject
from staffing.models import Signature, User
from staffing.services import signature_apply, signing_action


@transaction.atomic
def ctcae_load(*, rows: list[dict]) -> tuple[int, int]:
    """Insert or update CTCAE terms by MedDRA code; returns (created, updated)."""
    existing = {t.meddra_code: t for t in CtcaeTerm.objects.all()}
    created, updated = [], []
    for row in rows:
        term = existing.get(row["meddra_code"])
        values = {k: row[k] for k in ("term", "soc", "grades") if k in row}
        if "grade_definitions" in row:
            values["grade_definitions"] = row["grade_definitions"]
            values["definition"] = row.get("definition", "")
        if term is None:
            created.append(CtcaeTerm(meddra_code=row["meddra_code"], **values))
            continue
        for name, value in values.items():
            setattr(term, name, value)
        updated.append(term)
    CtcaeTerm.objects.bulk_create(created, batch_size=500)
    fields = ["term", "soc", "grades", "grade_definitions", "definition"]
    CtcaeTerm.objects.bulk_update(updated, fields, batch_size=500)
    return len(created), len(updated)


def _check_coding(term: CtcaeTerm | None, grade: int, criteria: list[str]) -> None:
    if not 1 <= grade <= 5:
        raise ApplicationError("The CTCAE grade is 1 to 5.", field="severity_grade")
    if term is not None and not term.has_grade(grade):
        raise ApplicationError(
            f"CTCAE v5 has no grade {grade} for {term.term} (grades {', '.join(term.grades)}).",
            field="severity_grade",
        )
    unknown = set(criteria) - set(SERIOUSNESS_CRITERIA)
    if unknown:
        raise ApplicationError(f"Unknown seriousness criteria: {sorted(unknown)}",
                               field="seriousness_criteria")


@transaction.atomic
def adverse_event_create(*, subject: Subject, by: User, **fields) -> AdverseEvent:
    """Record an adverse event reported by a site, coded to CTCAE v5."""
    _check_coding(fields.get("term"), fields["severity_grade"],
                  fields.get("seriousness_criteria", []))
    event = AdverseEvent(subject=subject, **fields)
    audited_save(event, by=by, reason="Adverse event recorded")
    return event


@signing_action
def adverse_event_review(
    *, event: AdverseEvent, by: User, password: str, sponsor_causality: str,
    expectedness: str, comment: str = "",
) -> Signature:
    """Medical monitor's sign-off: sponsor causality and expectedness, e-signed (the password,
    the signing lock and the failure count are the signature service's; a refusal saves
    nothing)."""
    if sponsor_causality not in Causality.values:
        raise ApplicationError("Choose related or not_related.", field="sponsor_causality")
    if expectedness not in Expectedness.values:
        raise ApplicationError("Choose expected or unexpected.", field="expectedness")
    event.sponsor_causality = sponsor_causality
    event.expectedness = expectedness
    event.review_status = "reviewed"
    audited_save(event, by=by, reason=f"Medical review: {comment}" if comment else "Medical review")
    return signature_apply(obj=event, by=by, password=password,
                           meaning=Signature.Meaning.MEDICALLY_REVIEWED, comment=comment)
