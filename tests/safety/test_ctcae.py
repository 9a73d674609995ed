"""CTCAE v5 dictionary: shipped facts table loaded by migrate; NCI's full file by command."""

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from croportal.exceptions import ApplicationError
from safety.ctcae import read_facts_file
from safety.models import AdverseEvent, CtcaeTerm
from safety.services import adverse_event_create
from tests.conftest import api_as, need_service

NCI_CSV = Path(settings.BASE_DIR).parent / "shared" / "data" / "ctcae-v5" / "ctcae_v5_terms.csv"


def test_the_shipped_table_holds_facts_only_and_is_loaded_by_migrate(db):
    rows = read_facts_file(settings.CTCAE_FACTS_FILE)
    assert len(rows) == 837
    assert set(rows[0]) == {"meddra_code", "term", "soc", "grades"}
    assert CtcaeTerm.objects.count() == 837
    anemia = CtcaeTerm.objects.get(meddra_code="10002272")
    assert (anemia.term, anemia.soc, anemia.grades) == (
        "Anemia", "Blood and lymphatic system disorders", "12345")
    assert anemia.grade_definitions == {}
    assert CtcaeTerm.objects.values("soc").distinct().count() == 26


def test_load_ctcae_adds_nci_grade_definitions(db):
    need_service(NCI_CSV.exists(), "NCI's full CTCAE file is not in ../shared/data")
    call_command("load_ctcae", str(NCI_CSV))
    anemia = CtcaeTerm.objects.get(meddra_code="10002272")
    assert anemia.grade_definitions["5"] == "Death"
    assert "hemoglobin" in anemia.definition
    assert CtcaeTerm.objects.count() == 837


def test_load_ctcae_reads_the_xlsx_workbook_too(db, tmp_path):
    xlsx = NCI_CSV.with_name("CTCAE_v5.0.xlsx")
    need_service(xlsx.exists(), "NCI's CTCAE workbook is not in ../shared/data")
    call_command("load_ctcae", str(xlsx))
    assert CtcaeTerm.objects.get(meddra_code="10002272").grade_definitions["1"].startswith(
        "Hemoglobin")


def test_a_file_that_is_not_ctcae_is_refused_and_changes_nothing(db, tmp_path):
    bogus = tmp_path / "terms.csv"
    bogus.write_text("name,code\nfoo,1\n")
    with pytest.raises(CommandError, match="missing column"):
        call_command("load_ctcae", str(bogus))
    with pytest.raises(CommandError, match="No such file"):
        call_command("load_ctcae", str(tmp_path / "absent.csv"))
    assert CtcaeTerm.objects.count() == 837


def test_terms_are_searchable_by_name_soc_or_code(cra, monitor, client):
    body = api_as(cra).get("/api/v1/ctcae-terms/?search=neutropenia").json()
    names = {row["term"] for row in body["results"]}
    assert "Febrile neutropenia" in names
    assert body["count"] == len(names)
    code = api_as(cra).get("/api/v1/ctcae-terms/?search=10002272").json()
    assert [r["term"] for r in code["results"]] == ["Anemia"]
    client.force_login(monitor)
    page = client.get("/safety/ctcae/?q=neutropenia", HTTP_HX_REQUEST="true")
    assert "Febrile neutropenia" in page.content.decode()
    assert "<html" not in page.content.decode()


def test_a_grade_that_does_not_exist_for_the_term_is_refused(subject, cra):
    febrile = CtcaeTerm.objects.get(term="Febrile neutropenia")  # grades 3, 4, 5
    assert febrile.grades == "345"
    before = AdverseEvent.objects.count()
    with pytest.raises(ApplicationError, match="no grade 1"):
        adverse_event_create(
            subject=subject, by=cra, verbatim_term="fever", term=febrile,
            onset_date=date(2026, 6, 1), severity_grade=1,
            site_awareness_at=datetime(2026, 6, 1, tzinfo=UTC),
            sponsor_awareness_at=datetime(2026, 6, 1, tzinfo=UTC),
        )
    assert AdverseEvent.objects.count() == before
