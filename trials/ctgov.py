"""Reading a ClinicalTrials.gov study record: API v2 JSON or the legacy <clinical_study> XML.

Pure functions, no database: `parse_record(data)` gives a `CtgovRecord` (frozen, with
`to_dict()`/`from_dict()` so it can wait in `CtgovImport.record` between preview and import),
or raises `CtgovError` with a message fit to show the person who uploaded the file.

Registry dates come at day ("2019-05-14", "May 14, 2019") or month ("2019-05", "May 2019")
precision; a month-precision date is read as the first day of that month and keeps its
precision in `RegistryDate.precision`.
"""

import json
import re
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from functools import lru_cache

import pycountry
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from croportal.parsers import json_loads_checked
from croportal.validation import DATE_RANGE_MESSAGE, in_portal_range

MAX_BYTES = 20 * 1024 * 1024
NCT_ID = re.compile(r"^NCT\d{8}$")
MAX_TITLE, MAX_INDICATION, MAX_PRODUCT = 500, 300, 200
MAX_INSTITUTION, MAX_CITY = 300, 120
MAX_ENROLLMENT = 2**31 - 1  # the trial's target (a PositiveIntegerField on every database)
# Registry records nest about 10 levels deep (results sections); far deeper is not a record.
MAX_DEPTH = 64

PHASES = {
    frozenset("1"): "I", frozenset("12"): "I/II", frozenset("2"): "II",
    frozenset("23"): "II/III", frozenset("3"): "III", frozenset("4"): "IV",
}
# Registry overall status (API v2 enum; the legacy XML's words normalised the same way).
STATUSES = {
    "NOT_YET_RECRUITING": "startup", "RECRUITING": "enrolling",
    "ENROLLING_BY_INVITATION": "enrolling", "ACTIVE_NOT_RECRUITING": "enrollment_closed",
    "COMPLETED": "completed", "TERMINATED": "terminated", "WITHDRAWN": "terminated",
    "SUSPENDED": "on_hold",
}
# Statuses in which the study has started / ended: an old record's date without a type
# (before 2017 the registry did not say "actual") is then taken as actual.
STARTED = {"RECRUITING", "ENROLLING_BY_INVITATION", "ACTIVE_NOT_RECRUITING", "COMPLETED",
           "TERMINATED", "SUSPENDED"}
ENDED = {"COMPLETED", "TERMINATED"}
PRODUCT_TYPES = {"DRUG", "BIOLOGICAL", "DEVICE", "COMBINATION_PRODUCT"}
MONTHS = {name: number for number, name in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"), start=1)}
# Registry spellings that pycountry does not know, or knows under another name.
COUNTRY_ALIASES = {
    "korea, republic of": "KR", "south korea": "KR",
    "korea, democratic people's republic of": "KP", "north korea": "KP",
    "russian federation": "RU", "russia": "RU",
    "iran, islamic republic of": "IR", "taiwan": "TW", "czech republic": "CZ",
    "macedonia, the former yugoslav republic of": "MK", "macedonia": "MK",
    "north macedonia": "MK", "turkey": "TR", "vietnam": "VN",
    "congo, the democratic republic of the": "CD", "congo, democratic republic": "CD",
    "congo": "CG", "libyan arab jamahiriya": "LY", "palestinian territory, occupied": "PS",
    "palestinian territories": "PS", "macau": "MO", "macao": "MO", "cote d'ivoire": "CI",
    "côte d'ivoire": "CI", "swaziland": "SZ", "burma": "MM", "cape verde": "CV",
    "reunion": "RE", "réunion": "RE", "virgin islands (u.s.)": "VI", "saint martin": "MF",
    "holy see (vatican city state)": "VA", "bolivia": "BO", "venezuela": "VE",
    "tanzania": "TZ", "moldova": "MD", "laos": "LA", "syria": "SY",
    # The union's code (CS) left ISO 3166-1 in 2006; Serbia is its continuing state, and the
    # registry's sites under this name are in Serbia (Belgrade, Novi Sad, Niš).
    "former serbia and montenegro": "RS", "serbia and montenegro": "RS",
}


class CtgovError(Exception):
    """The file is not a usable ClinicalTrials.gov study record; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class RegistryDate:
    value: date
    actual: bool
    precision: str = "day"  # "day" or "month"


@dataclass(frozen=True)
class Location:
    institution: str
    city: str
    country_name: str
    country: str | None  # ISO 3166-1 alpha-2; None: not importable

    @property
    def importable(self) -> bool:
        return self.country is not None


@dataclass(frozen=True)
class CtgovRecord:
    nct_id: str
    source_format: str  # "json" (API v2) or "xml" (legacy)
    org_study_id: str = ""
    title: str = ""
    acronym: str = ""
    phase: str | None = None
    phase_raw: str = ""
    registry_status: str = ""
    status: str = "planning"
    lead_sponsor: str = ""
    indication: str = ""
    investigational_product: str = ""
    enrollment: int | None = None
    enrollment_actual: bool = False
    start_date: RegistryDate | None = None
    primary_completion_date: RegistryDate | None = None
    completion_date: RegistryDate | None = None
    last_update: date | None = None
    locations: tuple[Location, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    @property
    def importable_locations(self) -> list[Location]:
        return [location for location in self.locations if location.importable]

    @property
    def skipped_locations(self) -> list[Location]:
        return [location for location in self.locations if not location.importable]

    def to_dict(self) -> dict:
        data = asdict(self)
        for name in ("start_date", "primary_completion_date", "completion_date"):
            if data[name] is not None:
                data[name]["value"] = data[name]["value"].isoformat()
        data["last_update"] = self.last_update.isoformat() if self.last_update else None
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "CtgovRecord":
        def registry_date(value: dict | None) -> RegistryDate | None:
            if value is None:
                return None
            return RegistryDate(date.fromisoformat(value["value"]), bool(value["actual"]),
                                value.get("precision", "day"))

        names = {f for f in cls.__dataclass_fields__}
        values = {k: v for k, v in data.items() if k in names}
        for name in ("start_date", "primary_completion_date", "completion_date"):
            values[name] = registry_date(values.get(name))
        last = values.get("last_update")
        values["last_update"] = date.fromisoformat(last) if last else None
        values["locations"] = tuple(Location(**item) for item in values.get("locations", ()))
        values["warnings"] = tuple(values.get("warnings", ()))
        return cls(**values)


# --------------------------------------------------------------------------------- entry point

def parse_record(data: bytes, filename: str = "") -> CtgovRecord:
    """Read one study record, recognised by its content (never by the file's extension)."""
    name = f"“{filename}”" if filename else "The file"
    if not data or not data.strip():
        raise CtgovError(f"{name} is empty.")
    if len(data) > MAX_BYTES:
        raise CtgovError(f"{name} is larger than {MAX_BYTES // (1024 * 1024)} MB; a single "
                         "study record is far smaller.")
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head not in (b"{", b"[", b"<"):
        raise CtgovError(f"{name} is neither JSON nor XML: upload a ClinicalTrials.gov study "
                         "record (API v2 JSON, or the legacy XML download).")
    try:
        return _build(_read_xml(data, name) if head == b"<" else _read_json(data, name))
    except (AttributeError, TypeError) as error:  # a well-formed file of another shape
        raise CtgovError(f"{name} does not have the structure of a ClinicalTrials.gov study "
                         f"record ({error}).") from None


# ------------------------------------------------------------------------------ API v2 JSON

def _read_json(data: bytes, name: str) -> dict:
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
    protocol = document["protocolSection"]

    def module(key: str) -> dict:
        value = protocol.get(key)
        return value if isinstance(value, dict) else {}

    ident, status, design = (module("identificationModule"), module("statusModule"),
                             module("designModule"))
    enrollment = design.get("enrollmentInfo") or {}

    def when(key: str) -> tuple[str, str]:
        struct = status.get(key) or {}
        return str(struct.get("date") or ""), str(struct.get("type") or "")

    locations = [
        {"facility": loc.get("facility"), "city": loc.get("city"), "state": loc.get("state"),
         "zip": loc.get("zip"), "country": loc.get("country")}
        for loc in module("contactsLocationsModule").get("locations") or []
        if isinstance(loc, dict)
    ]
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


# ------------------------------------------------------------------------------- legacy XML

def _read_xml(data: bytes, name: str) -> dict:
    try:
        root = SafeET.fromstring(data)  # no entities, no external references, no DTD fetch
    except DefusedXmlException:
        raise CtgovError(f"{name} declares XML entities or external references, which are "
                         "refused for safety; registry records have none.") from None
    except SafeET.ParseError as error:
        raise CtgovError(f"{name} is not well-formed XML ({error}).") from None
    if _xml_depth(root) > MAX_DEPTH:
        raise CtgovError(f"{name} cannot be imported: XML nested deeper than {MAX_DEPTH} "
                         "levels is not accepted.")
    if root.tag != "clinical_study":
        raise CtgovError(f"{name} is XML but not a ClinicalTrials.gov record: its root element "
                         f"is <{root.tag}>, not <clinical_study>.")

    def text(path: str) -> str:
        return (root.findtext(path) or "").strip()

    def when(path: str) -> tuple[str, str]:
        element = root.find(path)
        if element is None:
            return "", ""
        return (element.text or "").strip(), element.get("type", "")

    enrollment = root.find("enrollment")
    locations = [
        {"facility": loc.findtext("facility/name"), "city": loc.findtext("facility/address/city"),
         "state": loc.findtext("facility/address/state"),
         "zip": loc.findtext("facility/address/zip"),
         "country": loc.findtext("facility/address/country")}
        for loc in root.iterfind("location")
    ]
    return {
        "format": "xml",
        "nct_id": text("id_info/nct_id"),
        "org_study_id": text("id_info/org_study_id"),
        "official_title": text("official_title"),
        "brief_title": text("brief_title"),
        "acronym": text("acronym"),
        "phase": text("phase"),
        "status": text("overall_status"),
        "sponsor": text("sponsors/lead_sponsor/agency"),
        "conditions": [(c.text or "") for c in root.iterfind("condition")],
        "interventions": [(i.findtext("intervention_type"), i.findtext("intervention_name"))
                          for i in root.iterfind("intervention")],
        "enrollment": enrollment.text if enrollment is not None else None,
        "enrollment_type": enrollment.get("type") if enrollment is not None else None,
        "start": when("start_date"),
        "primary_completion": when("primary_completion_date"),
        "completion": when("completion_date"),
        "last_update": text("last_update_posted") or text("lastchanged_date"),
        "locations": locations,
    }


def _xml_depth(root) -> int:
    """How deep the element tree goes, walked with an explicit stack (no recursion)."""
    deepest, stack = 0, [(root, 1)]
    while stack:
        element, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth <= MAX_DEPTH:  # deeper than that is refused anyway: stop walking
            stack.extend((child, depth + 1) for child in element)
    return deepest


# ------------------------------------------------------------------- common normalisation

def _build(raw: dict) -> CtgovRecord:
    warnings: list[str] = []
    nct_id = _clean(raw.get("nct_id"))
    if not nct_id:
        raise CtgovError("The record has no NCT ID, so it cannot be matched to the registry.")
    if not NCT_ID.match(nct_id):
        raise CtgovError(f"“{nct_id[:40]}” is not an NCT ID (NCT followed by 8 digits).")
    status_key = _status_key(raw.get("status"))
    phase_raw = _clean(raw.get("phase"))
    phase = _phase(phase_raw, warnings)
    return CtgovRecord(
        nct_id=nct_id,
        source_format=raw["format"],
        org_study_id=_clean(raw.get("org_study_id")),
        title=_clip(_clean(raw.get("official_title")) or _clean(raw.get("brief_title")),
                    MAX_TITLE) or nct_id,
        acronym=_clean(raw.get("acronym")),
        phase=phase,
        phase_raw=phase_raw,
        registry_status=_clean(raw.get("status")),
        status=STATUSES.get(status_key, "planning"),
        lead_sponsor=_clean(raw.get("sponsor")),
        indication=_clip("; ".join(filter(None, map(_clean, raw.get("conditions") or []))),
                         MAX_INDICATION),
        investigational_product=_clip(_product(raw.get("interventions") or []), MAX_PRODUCT),
        enrollment=_enrollment(raw.get("enrollment"), warnings),
        enrollment_actual=_clean(raw.get("enrollment_type")).upper() == "ACTUAL",
        start_date=_registry_date(raw["start"], "start date", warnings,
                                  untyped_actual=status_key in STARTED),
        primary_completion_date=_registry_date(raw["primary_completion"],
                                               "primary completion date", warnings,
                                               untyped_actual=status_key in ENDED),
        completion_date=_registry_date(raw["completion"], "completion date", warnings,
                                       untyped_actual=status_key in ENDED),
        last_update=_last_update(_clean(raw.get("last_update"))),
        locations=_locations(raw.get("locations") or [], warnings),
        warnings=tuple(warnings),
    )


def _clean(value) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def _clip(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def _status_key(value) -> str:
    return re.sub(r"[^A-Z]+", "_", _clean(value).upper()).strip("_")


def _phase(value: str, warnings: list[str]) -> str | None:
    numbers = frozenset(re.findall(r"PHASE\s*_?(\d)", value.upper()))
    if not numbers:
        return None  # "NA", "N/A" or none: not a phased (drug) study
    phase = PHASES.get(numbers)
    if phase is None:
        warnings.append(f"The registry phase “{value}” has no equivalent here; choose one.")
    return phase


def _product(interventions: list) -> str:
    """The first drug, biological or device, preferring a named product to a placebo."""
    products = [_clean(name) for kind, name in interventions
                if _status_key(kind) in PRODUCT_TYPES and _clean(name)]
    active = [name for name in products if "placebo" not in name.lower()]
    return (active or products or [""])[0]


def _enrollment(value, warnings: list[str]) -> int | None:
    if value is None or _clean(value) == "":
        return None
    text = _clean(value)
    if text.isdigit() and len(text.lstrip("0")) > len(str(MAX_ENROLLMENT)):
        raise CtgovError(f"The enrollment “{text[:40]}…” is not a plausible number of "
                         "participants.")
    try:
        count = int(text)
    except ValueError:
        warnings.append(f"The enrollment “{text[:40]}” is not a number; ignored.")
        return None
    if count > MAX_ENROLLMENT:
        raise CtgovError(f"The enrollment {count} is not a plausible number of participants.")
    return max(count, 0)


def _parse_date(value: str) -> tuple[date | None, str]:
    """(first day of the period, precision) of a registry date, or (None, "") if unreadable."""
    try:
        if match := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", value):
            return date(*map(int, match.groups())), "day"
        if match := re.fullmatch(r"(\d{4})-(\d{2})", value):
            return date(int(match[1]), int(match[2]), 1), "month"
        if match := re.fullmatch(r"([A-Za-z]+)\.? (\d{1,2}), (\d{4})", value):
            return date(int(match[3]), MONTHS[match[1].lower()], int(match[2])), "day"
        if match := re.fullmatch(r"([A-Za-z]+)\.?,? (\d{4})", value):
            return date(int(match[2]), MONTHS[match[1].lower()], 1), "month"
    except (KeyError, ValueError):
        pass
    return None, ""


def _registry_date(value: tuple[str, str], label: str, warnings: list[str], *,
                   untyped_actual: bool) -> RegistryDate | None:
    text, kind = _clean(value[0]), _clean(value[1]).upper()
    if not text:
        return None
    day, precision = _parse_date(text)
    if day is None:
        warnings.append(f"The {label} “{text[:40]}” could not be read; it is left out.")
        return None
    _check_range(day, label)
    actual = kind == "ACTUAL" or (not kind and untyped_actual)
    return RegistryDate(day, actual, precision)


def _check_range(day: date, label: str) -> None:
    if not in_portal_range(day):
        raise CtgovError(f"The {label} {day.isoformat()} is not a plausible date. "
                         f"{DATE_RANGE_MESSAGE}")


def _last_update(text: str) -> date | None:
    day = _parse_date(text)[0] if text else None
    if day is not None:
        _check_range(day, "last update")
    return day


def _locations(items: list[dict], warnings: list[str]) -> tuple[Location, ...]:
    """Sites from the registry's locations; the same facility listed twice (same institution,
    city and country, and no conflicting state or postcode) is one site."""
    kept: list[tuple[Location, str, str]] = []  # (location, state, zip)
    seen: dict[tuple[str, str, str], list[int]] = {}
    for item in items:
        city = _clip(_clean(item.get("city")), MAX_CITY)
        facility = _clean(item.get("facility"))
        institution = _clip(facility or (f"Unnamed site, {city}" if city else "Unnamed site"),
                            MAX_INSTITUTION)
        country_name = _clean(item.get("country"))
        state, postcode = _clean(item.get("state")), _clean(item.get("zip"))
        key = (institution.casefold(), city.casefold(), country_name.casefold())
        twin = next((i for i in seen.get(key, [])
                     if _compatible(kept[i][1], state) and _compatible(kept[i][2], postcode)),
                    None)
        if twin is not None:
            continue
        seen.setdefault(key, []).append(len(kept))
        kept.append((Location(institution, city, country_name, country_code(country_name)),
                     state, postcode))
    result = [_disambiguated(kept, i, seen) for i in range(len(kept))]
    for location in result:
        if not location.importable:
            where = ", ".join(filter(None, (location.institution, location.city)))
            warnings.append(f"{where}: unknown country “{location.country_name or '—'}”; "
                            "this location will not be imported.")
    return tuple(result)


def _compatible(one: str, other: str) -> bool:
    return not one or not other or one.casefold() == other.casefold()


def _disambiguated(kept: list, index: int, seen: dict) -> Location:
    """Distinct sites sharing a name and city (“Local Institution”, Beijing) get their state
    or postcode in the name, so that people can tell them apart."""
    location, state, postcode = kept[index]
    key = (location.institution.casefold(), location.city.casefold(),
           location.country_name.casefold())
    if len(seen[key]) < 2:
        return location
    detail = ", ".join(filter(None, (state, postcode)))
    if not detail:
        return location
    return replace(location, institution=_clip(f"{location.institution} ({detail})",
                                               MAX_INSTITUTION))


@lru_cache(maxsize=512)
def country_code(name: str) -> str | None:
    """ISO 3166-1 alpha-2 code of a registry country name, or None if it names no country."""
    key = _clean(name).casefold()
    if not key:
        return None
    if key in COUNTRY_ALIASES:
        return COUNTRY_ALIASES[key]
    try:
        return pycountry.countries.lookup(key).alpha_2
    except LookupError:
        return None
