"""Reading ClinicalTrials.gov records (API v2 JSON and legacy XML) into a CtgovRecord."""

import json
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import need_service
from trials.ctgov import CtgovError, CtgovRecord, RegistryDate, country_code, parse_record

RECORDS = Path(settings.BASE_DIR).parent / "shared" / "data" / "ctgov-records"


def record_file(name: str) -> Path:
    need_service(RECORDS.exists(), f"needs the ClinicalTrials.gov sample records in {RECORDS}")
    path = next(RECORDS.glob(f"*/{name}"), None)
    assert path is not None, f"{name} is missing from {RECORDS}"
    return path


def parse_file(name: str) -> CtgovRecord:
    path = record_file(name)
    return parse_record(path.read_bytes(), path.name)


def study_json(**identification) -> dict:
    """The smallest API v2 study object: an identification module, nothing else."""
    return {"protocolSection": {"identificationModule": {
        "nctId": "NCT01234567", "briefTitle": "A small study", **identification}}}


def parse_json(document) -> CtgovRecord:
    return parse_record(json.dumps(document).encode(), "study.json")


def with_locations(*locations: dict) -> dict:
    document = study_json()
    document["protocolSection"]["contactsLocationsModule"] = {"locations": list(locations)}
    return document


# ------------------------------------------------------------------------ the sample records

def test_every_sample_record_parses_and_survives_the_json_round_trip():
    need_service(RECORDS.exists(), f"needs the ClinicalTrials.gov sample records in {RECORDS}")
    files = sorted(RECORDS.glob("api-v2-json/*.json")) + sorted(RECORDS.glob("legacy-xml/*.xml"))
    assert len(files) == 72  # 10 API v2 JSON + 62 legacy XML (SOURCE.txt)
    for path in files:
        record = parse_record(path.read_bytes(), path.name)
        assert record.nct_id == path.name[:11], path.name
        assert record.source_format == ("json" if path.suffix == ".json" else "xml")
        assert record.title
        stored = json.loads(json.dumps(record.to_dict()))  # what a JSONField keeps
        assert CtgovRecord.from_dict(stored) == record, path.name


def test_api_v2_phase_2_study_with_unnamed_us_sites():
    record = parse_file("NCT02210780.json")
    assert record.nct_id == "NCT02210780"
    assert record.org_study_id == "R668-AD-1314"
    assert record.title.startswith("A Randomized, Double-Blind, Placebo-Controlled, Study")
    assert (record.phase, record.phase_raw) == ("II", "PHASE2")
    assert (record.registry_status, record.status) == ("COMPLETED", "completed")
    assert record.lead_sponsor == "Regeneron Pharmaceuticals"
    assert record.indication == "Atopic Dermatitis"
    assert record.investigational_product == "Dupilumab"
    assert (record.enrollment, record.enrollment_actual) == (194, True)
    assert record.start_date == RegistryDate(date(2014, 8, 5), actual=True)
    assert record.primary_completion_date == RegistryDate(date(2015, 9, 15), actual=True)
    assert record.completion_date == RegistryDate(date(2015, 9, 15), actual=True)
    assert record.last_update == date(2020, 5, 7)
    assert len(record.locations) == len(record.importable_locations) == 42
    first = record.locations[0]
    assert (first.institution, first.city, first.country) == (
        "Unnamed site, Birmingham", "Birmingham", "US")
    assert record.warnings == ()


def test_api_v2_month_precision_dates_are_the_first_of_the_month():
    record = parse_file("NCT02552212.json")
    assert (record.phase, record.acronym, record.status) == ("III", "C-AXSPAND", "completed")
    assert record.lead_sponsor == "UCB BIOSCIENCES GmbH"
    assert record.investigational_product == "Certolizumab Pegol"  # a biological
    assert record.indication == ("Axial Spondyloarthritis; Nonradiographic Axial "
                                 "Spondyloarthritis; Nr-axSpA")
    assert record.start_date == RegistryDate(date(2015, 9, 1), actual=True, precision="month")
    assert record.completion_date == RegistryDate(date(2020, 5, 1), actual=True,
                                                  precision="month")
    assert len(record.locations) == 105
    australian = [loc for loc in record.locations if loc.country == "AU"]
    assert (australian[0].institution, australian[0].city) == ("As0006 208", "Camperdown")


def test_api_v2_not_yet_recruiting_study_has_only_anticipated_dates_and_no_phase():
    record = parse_file("NCT06171568.json")
    assert (record.registry_status, record.status) == ("NOT_YET_RECRUITING", "startup")
    assert record.phase is None  # observational
    assert (record.enrollment, record.enrollment_actual) == (400, False)
    assert record.start_date == RegistryDate(date(2024, 2, 1), actual=False)
    assert record.lead_sponsor == "Assistance Publique - Hôpitaux de Paris"
    [paris] = record.locations
    assert (paris.institution, paris.city, paris.country) == (
        "Neurosurgery - Lariboisière hospital", "Paris", "FR")


def test_api_v2_old_record_untyped_start_of_a_completed_study_counts_as_actual():
    record = parse_file("NCT00763412.json")
    assert (record.phase, record.phase_raw) == (None, "NA")
    assert record.start_date == RegistryDate(date(2006, 11, 1), actual=True, precision="month")
    # The first drug listed is the placebo: the product named is the active one.
    assert record.investigational_product == "repaglinide"


def test_legacy_xml_nci_match_has_1218_locations():
    record = parse_file("NCT02465060.xml")
    assert record.title == "Molecular Analysis for Therapy Choice (MATCH)"
    assert (record.phase, record.phase_raw) == ("II", "Phase 2")
    assert (record.registry_status, record.status) == ("Recruiting", "enrolling")
    assert record.lead_sponsor == "National Cancer Institute (NCI)"
    assert record.org_study_id == "NCI-2015-00054"
    assert (record.enrollment, record.enrollment_actual) == (6452, False)
    assert record.start_date == RegistryDate(date(2015, 8, 12), actual=True)
    assert record.primary_completion_date == RegistryDate(date(2022, 6, 30), actual=False)
    assert record.completion_date is None
    # 1,218 <location> elements, no two the same facility in the same city: none collapsed.
    assert len(record.locations) == len(record.importable_locations) == 1218
    first = record.locations[0]
    assert (first.institution, first.city, first.country) == (
        "University of Alabama at Birmingham Cancer Center", "Birmingham", "US")
    assert {loc.country for loc in record.locations} == {"US", "PR"}


def test_legacy_xml_phase_1_2_with_untyped_month_start():
    record = parse_file("NCT00023673.xml")
    assert (record.phase, record.phase_raw) == ("I/II", "Phase 1/Phase 2")
    assert (record.status, record.org_study_id) == ("completed", "RTOG L-0117")
    assert record.lead_sponsor == "Radiation Therapy Oncology Group"
    assert record.investigational_product == "carboplatin"
    assert (record.enrollment, record.enrollment_actual) == (63, True)
    assert record.start_date == RegistryDate(date(2001, 7, 1), actual=True, precision="month")
    assert record.primary_completion_date == RegistryDate(date(2009, 1, 1), True, "month")
    assert record.completion_date == RegistryDate(date(2013, 11, 1), True, "month")
    assert len(record.locations) == 41
    calgary = next(loc for loc in record.locations if loc.city == "Calgary")
    assert (calgary.institution, calgary.country) == ("Tom Baker Cancer Centre - Calgary", "CA")


def test_legacy_xml_registry_country_spellings_become_iso_codes():
    record = parse_file("NCT02481830.xml")
    assert (record.phase, record.status) == ("III", "enrollment_closed")
    countries = {loc.country_name: loc.country for loc in record.locations}
    assert countries["Korea, Republic of"] == "KR"
    assert countries["Czechia"] == "CZ"
    assert None not in countries.values()
    serbia = parse_file("NCT01076361.xml")
    [belgrade] = [loc for loc in serbia.locations if loc.city == "Belgrade"]
    assert (belgrade.country_name, belgrade.country) == ("Former Serbia and Montenegro", "RS")
    assert belgrade.institution == "Unnamed site, Belgrade"


def test_the_same_facility_listed_twice_is_one_site_but_namesakes_stay_apart():
    # Ain Shams University, Cairo, is listed twice (once with a state and postcode).
    assert [loc.institution for loc in parse_file("NCT03459976.xml").locations] == [
        "Ain Shams University"]
    # BMS's redacted "Local Institution"s in Beijing are five hospitals (five postcodes).
    record = parse_file("NCT02481830.xml")
    assert len(record.locations) == 149
    beijing = [loc.institution for loc in record.locations
               if loc.city == "Beijing" and loc.institution.startswith("Local Institution")]
    assert len(beijing) == len(set(beijing)) == 5
    assert "Local Institution (Beijing, 100021)" in beijing
    # Columbus, Georgia and Columbus, Ohio: two unnamed sites, told apart by their state.
    columbus = [loc.institution for loc in parse_file("NCT01076361.xml").locations
                if loc.city == "Columbus"]
    assert sorted(columbus) == ["Unnamed site, Columbus (Georgia)",
                                "Unnamed site, Columbus (Ohio)"]


def test_a_withheld_record_parses_with_nothing_to_import():
    record = parse_file("NCT03182660.xml")
    assert (record.registry_status, record.status) == ("Withheld", "planning")
    assert record.phase is None
    assert record.locations == ()
    assert record.lead_sponsor == "[Redacted]"


# ------------------------------------------------------------------------- mapping rules

@pytest.mark.parametrize(("phases", "expected"), [
    (["EARLY_PHASE1"], "I"), (["PHASE1"], "I"), (["PHASE1", "PHASE2"], "I/II"),
    (["PHASE2"], "II"), (["PHASE2", "PHASE3"], "II/III"), (["PHASE3"], "III"),
    (["PHASE4"], "IV"), (["NA"], None), ([], None),
])
def test_api_v2_phases(phases, expected):
    document = study_json()
    document["protocolSection"]["designModule"] = {"phases": phases}
    assert parse_json(document).phase == expected


@pytest.mark.parametrize(("phase", "expected"), [
    ("Early Phase 1", "I"), ("Phase 1", "I"), ("Phase 1/Phase 2", "I/II"), ("Phase 2", "II"),
    ("Phase 2/Phase 3", "II/III"), ("Phase 3", "III"), ("Phase 4", "IV"), ("N/A", None),
])
def test_legacy_xml_phases(phase, expected):
    xml = (f"<clinical_study><id_info><nct_id>NCT01234567</nct_id></id_info>"
           f"<brief_title>T</brief_title><phase>{phase}</phase></clinical_study>")
    assert parse_record(xml.encode()).phase == expected


@pytest.mark.parametrize(("status", "expected"), [
    ("NOT_YET_RECRUITING", "startup"), ("Not yet recruiting", "startup"),
    ("RECRUITING", "enrolling"), ("Enrolling by invitation", "enrolling"),
    ("ACTIVE_NOT_RECRUITING", "enrollment_closed"), ("Active, not recruiting",
                                                     "enrollment_closed"),
    ("COMPLETED", "completed"), ("TERMINATED", "terminated"), ("Withdrawn", "terminated"),
    ("SUSPENDED", "on_hold"), ("UNKNOWN", "planning"), ("Unknown status", "planning"),
    ("Available", "planning"), ("", "planning"),
])
def test_registry_statuses(status, expected):
    document = study_json()
    document["protocolSection"]["statusModule"] = {"overallStatus": status}
    assert parse_json(document).status == expected


def test_an_unknown_country_is_listed_with_a_warning_and_not_importable():
    record = parse_json(with_locations(
        {"facility": "Hospital One", "city": "Poseidonis", "country": "Atlantis"},
        {"facility": "Clinic Two", "city": "Hanoi", "country": "Vietnam"},
    ))
    assert [loc.country for loc in record.locations] == [None, "VN"]
    assert [loc.institution for loc in record.importable_locations] == ["Clinic Two"]
    assert [loc.institution for loc in record.skipped_locations] == ["Hospital One"]
    [warning] = record.warnings
    assert "Hospital One, Poseidonis" in warning
    assert "Atlantis" in warning


@pytest.mark.parametrize(("name", "code"), [
    ("United States", "US"), ("Korea, Republic of", "KR"), ("Russian Federation", "RU"),
    ("Iran, Islamic Republic of", "IR"), ("Taiwan", "TW"), ("Czech Republic", "CZ"),
    ("Macedonia, The Former Yugoslav Republic of", "MK"), ("Turkey", "TR"),
    ("Vietnam", "VN"), ("Congo, The Democratic Republic of the", "CD"),
    ("Former Serbia and Montenegro", "RS"), ("Puerto Rico", "PR"), ("Atlantis", None),
    ("", None),
])
def test_country_names(name, code):
    assert country_code(name) == code


def test_long_texts_are_clipped_to_the_portal_fields():
    document = with_locations({"facility": "F" * 400, "city": "C" * 200, "country": "France"})
    module = document["protocolSection"]
    module["identificationModule"]["officialTitle"] = "T" * 700
    module["conditionsModule"] = {"conditions": ["Condition " * 20, "Other " * 30]}
    module["armsInterventionsModule"] = {"interventions": [{"type": "DRUG", "name": "D" * 300}]}
    record = parse_json(document)
    assert len(record.title) == 500
    assert len(record.indication) == 300
    assert len(record.investigational_product) == 200
    assert len(record.locations[0].institution) == 300
    assert len(record.locations[0].city) == 120


def test_a_location_without_a_facility_name_is_named_after_its_city():
    record = parse_json(with_locations({"city": "Lyon", "country": "France"}, {"country": "Peru"}))
    assert [loc.institution for loc in record.locations] == ["Unnamed site, Lyon",
                                                             "Unnamed site"]


# ------------------------------------------------------------------------ refused contents

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE clinical_study [
  <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
  <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
  <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
]>
<clinical_study><id_info><nct_id>NCT01234567</nct_id></id_info>
<brief_title>&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;</brief_title></clinical_study>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE clinical_study [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<clinical_study><id_info><nct_id>NCT01234567</nct_id></id_info>
<brief_title>&secret;</brief_title></clinical_study>"""


@pytest.mark.parametrize(("data", "message"), [
    (b"", "is empty"),
    (b"  \n\t ", "is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "neither JSON nor XML"),
    (b"NCT01234567,A study,Phase 2\n", "neither JSON nor XML"),
    (b'{"protocolSection": {"identificationModule": {"nctId": "NCT0', "not valid JSON"),
    (b"[1, 2, 3]", "not a ClinicalTrials.gov API v2 study record"),
    (b'{"hello": "world"}', "no “protocolSection” object"),
    (b'{"studies": [{}, {}], "nextPageToken": "x"}', "search result with 2 studies"),
    (b'{"FullStudiesResponse": {"FullStudies": []}}', "classic-API format"),
    (b"<rss version='2.0'><channel/></rss>", "root element is <rss>, not <clinical_study>"),
    (b"<clinical_study><id_info><nct_id>NCT01234567</nct_id>", "not well-formed XML"),
    (BOMB, "declares XML entities"),
    (EXTERNAL_ENTITY, "declares XML entities"),
    (b"<clinical_study><brief_title>No id</brief_title></clinical_study>", "no NCT ID"),
    (b'{"protocolSection": {"identificationModule": {"briefTitle": "x"}}}', "no NCT ID"),
    (b'{"protocolSection": {"identificationModule": {"nctId": "NCT123"}}}',
     "“NCT123” is not an NCT ID"),
    (b'{"protocolSection": {"identificationModule": {"nctId": "NCT01234567", '
     b'"orgStudyIdInfo": "not an object"}}}', "does not have the structure"),
    (b'{"protocolSection": "Caf\xe9"}', "not UTF-8 text"),  # Latin-1, not UTF-8
])
def test_malformed_or_foreign_content_is_refused_with_a_clear_message(data, message):
    with pytest.raises(CtgovError) as refused:
        parse_record(data, "upload.bin")
    assert message in refused.value.message
    assert "upload.bin" in refused.value.message or "NCT" in refused.value.message


def test_a_file_over_20_mb_is_refused_before_reading_it():
    with pytest.raises(CtgovError, match="larger than 20 MB"):
        parse_record(b"{" + b" " * (20 * 1024 * 1024), "huge.json")


def test_a_truncated_sample_record_is_refused():
    data = record_file("NCT02210780.json").read_bytes()
    with pytest.raises(CtgovError, match="not valid JSON"):
        parse_record(data[: len(data) // 2], "NCT02210780.json")
    xml = record_file("NCT00023673.xml").read_bytes()
    with pytest.raises(CtgovError, match="not well-formed XML"):
        parse_record(xml[: len(xml) // 2], "NCT00023673.xml")
