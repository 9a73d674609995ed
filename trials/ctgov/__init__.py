"""Reading a ClinicalTrials.gov study record: API v2 JSON or the legacy <clinical_study> XML.

Pure functions, no database: `parse_record(data)` gives a `CtgovRecord` (frozen, with
`to_dict()`/`from_dict()` so it can wait in `CtgovImport.record` between preview and import),
or raises `CtgovError` with a message fit to show the person who uploaded the file.

Registry dates come at day ("2019-05-14", "May 14, 2019") or month ("2019-05", "May 2019")
precision; a month-precision date is read as the first day of that month and keeps its
precision in `RegistryDate.precision`."""

from trials.ctgov.normalise import (
    country_code,
)
from trials.ctgov.parse import (
    parse_record,
)
from trials.ctgov.record import (
    COUNTRY_ALIASES,
    ENDED,
    MAX_BYTES,
    MAX_CITY,
    MAX_DEPTH,
    MAX_ENROLLMENT,
    MAX_INDICATION,
    MAX_INSTITUTION,
    MAX_PRODUCT,
    MAX_TITLE,
    MONTHS,
    NCT_ID,
    PHASES,
    PRODUCT_TYPES,
    STARTED,
    STATUSES,
    CtgovError,
    CtgovRecord,
    Location,
    RegistryDate,
)

__all__ = [
    "COUNTRY_ALIASES",
    "ENDED",
    "MAX_BYTES",
    "MAX_CITY",
    "MAX_DEPTH",
    "MAX_ENROLLMENT",
    "MAX_INDICATION",
    "MAX_INSTITUTION",
    "MAX_PRODUCT",
    "MAX_TITLE",
    "MONTHS",
    "NCT_ID",
    "PHASES",
    "PRODUCT_TYPES",
    "STARTED",
    "STATUSES",
    "CtgovError",
    "CtgovRecord",
    "Location",
    "RegistryDate",
    "country_code",
    "parse_record",
]
