"""A ClinicalTrials.gov study record as the portal keeps it: the frozen record, its dates and
locations, and the limits on what is read."""

import re
from dataclasses import asdict, dataclass, field
from datetime import date

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
