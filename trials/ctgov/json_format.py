"""Reading the registry's API v2 JSON study record into the raw fields the normaliser takes."""

import json

from croportal.parsers import json_loads_checked
from trials.ctgov.record import MAX_DEPTH, CtgovError


def read_json(data: bytes, name: str) -> dict:
    try:
        document = json_loads_checked(data.decode("utf-8-sig"), max_depth=MAX_DEPTH)
    except UnicodeDecodeError:
        raise CtgovError(f"{name} is not UTF-8 text.") from None
    except json.JSONDecodeError as error:
        raise CtgovError(f"{name} is not valid JSON (line {error.lineno}, column "
                         f"{error.colno}: {error.msg}).") from None
    except ValueError as error:  # nesting, NUL, lone surrogates, numbers of 4300+ digits
        raise CtgovError(f"{name} cannot be imported: {error}") from None
    if isinstance(document, dict) and isinstance(document.get("studies"), list):
        raise CtgovError(f"{name} is a search result with {len(document['studies'])} studies; "
                         "upload one study record (…/api/v2/studies/NCT…).")
    if isinstance(document, dict) and "FullStudiesResponse" in document:
        raise CtgovError(f"{name} is in the retired classic-API format; download the record "
                         "from the API v2 (…/api/v2/studies/NCT…) instead.")
    if not isinstance(document, dict) or not isinstance(document.get("protocolSection"), dict):
        raise CtgovError(f"{name} is JSON but not a ClinicalTrials.gov API v2 study record "
                         "(no “protocolSection” object).")
    return _fields(document["protocolSection"])


def _fields(protocol: dict) -> dict:
    def module(key: str) -> dict:
        value = protocol.get(key)
        return value if isinstance(value, dict) else {}

    ident, status, design = (module("identificationModule"), module("statusModule"),
                             module("designModule"))
    enrollment = design.get("enrollmentInfo") or {}

    def when(key: str) -> tuple[str, str]:
        struct = status.get(key) or {}
        return str(struct.get("date") or ""), str(struct.get("type") or "")

    locations = _locations(module("contactsLocationsModule").get("locations") or [])
    return {
        "format": "json",
        "nct_id": ident.get("nctId"),
        "org_study_id": (ident.get("orgStudyIdInfo") or {}).get("id"),
        "official_title": ident.get("officialTitle"),
        "brief_title": ident.get("briefTitle"),
        "acronym": ident.get("acronym"),
        "phase": "/".join(str(p) for p in design.get("phases") or []),
        "status": status.get("overallStatus"),
        "sponsor": (module("sponsorCollaboratorsModule").get("leadSponsor") or {}).get("name"),
        "conditions": module("conditionsModule").get("conditions") or [],
        "interventions": [
            (i.get("type"), i.get("name"))
            for i in module("armsInterventionsModule").get("interventions") or []
            if isinstance(i, dict)
        ],
        "enrollment": enrollment.get("count"),
        "enrollment_type": enrollment.get("type"),
        "start": when("startDateStruct"),
        "primary_completion": when("primaryCompletionDateStruct"),
        "completion": when("completionDateStruct"),
        "last_update": when("lastUpdatePostDateStruct")[0],
        "locations": locations,
    }


def _locations(items: list) -> list[dict]:
    return [
        {"facility": loc.get("facility"), "city": loc.get("city"), "state": loc.get("state"),
         "zip": loc.get("zip"), "country": loc.get("country")}
        for loc in items if isinstance(loc, dict)
    ]
