"""Reading the legacy <clinical_study> XML download into the raw fields the normaliser takes."""

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from trials.ctgov.record import MAX_DEPTH, CtgovError


def read_xml(data: bytes, name: str) -> dict:
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
    return _fields(root)


def _fields(root) -> dict:
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
