"""Loading the CTCAE v5 dictionary (NCI, public domain) and coding a verbatim term to it."""

from django.db import transaction

from croportal.exceptions import ApplicationError
from safety.models import CtcaeTerm


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


def ctcae_term_resolve(*, term, meddra_code: str | None = None) -> CtcaeTerm | None:
    """The dictionary term a case is coded to, from its name (the API's ``term``), its MedDRA
    code, or both; a code that names another term than the name is a 400."""
    if isinstance(term, CtcaeTerm):
        found = term
    elif term in (None, "") and not meddra_code:
        return None
    elif term in (None, ""):
        found = _by_code(meddra_code)
    else:
        found = _by_name(term, meddra_code)
    if meddra_code and found.meddra_code != str(meddra_code).strip():
        raise ApplicationError(
            f"MedDRA code {meddra_code} is not the code of {found.term} ({found.meddra_code}).",
            field="meddra_code")
    return found


def _by_code(code) -> CtcaeTerm:
    found = CtcaeTerm.objects.filter(meddra_code=str(code).strip()).first()
    if found is None:
        raise ApplicationError("No CTCAE v5 term has this MedDRA code.", field="meddra_code")
    return found


def _by_name(name, code) -> CtcaeTerm:
    if not isinstance(name, str):
        raise ApplicationError("Give the CTCAE term's name.", field="term")
    matches = list(CtcaeTerm.objects.filter(term__iexact=name.strip())[:2])
    if not matches:
        raise ApplicationError(f"{name.strip()[:100]!r} is not a CTCAE v5 term: search the "
                               "dictionary and choose one.", field="term")
    if len(matches) > 1 and not code:
        raise ApplicationError("Several CTCAE terms have this name: give its meddra_code too.",
                               field="meddra_code")
    if len(matches) > 1:
        return _by_code(code)
    return matches[0]
