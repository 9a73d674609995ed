"""Normalising the raw fields of either format into a CtgovRecord, with warnings for what was
dropped or guessed."""

import re
from dataclasses import replace
from datetime import date
from functools import lru_cache

import pycountry

from croportal.validation import DATE_RANGE_MESSAGE, in_portal_range
from trials.ctgov.record import (
    COUNTRY_ALIASES,
    ENDED,
    MAX_CITY,
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


def build_record(raw: dict) -> CtgovRecord:
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
