"""The entry point: one uploaded study record, recognised by its content (never by the file's
extension)."""

from trials.ctgov.json_format import read_json
from trials.ctgov.normalise import build_record
from trials.ctgov.record import MAX_BYTES, CtgovError, CtgovRecord
from trials.ctgov.xml_format import read_xml


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
        return build_record(read_xml(data, name) if head == b"<" else read_json(data, name))
    except (AttributeError, TypeError) as error:  # a well-formed file of another shape
        raise CtgovError(f"{name} does not have the structure of a ClinicalTrials.gov study "
                         f"record ({error}).") from None
