"""The case through the API, end to end: create -> follow-up -> review -> submit, the fatal
upgrade and the downgrade, and clear 400s that change nothing (API.md, DOMAIN A1-A3)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from safety.models import AdverseEvent, CaseVersion, ReportingObligation
from tests.conftest import PASSWORD, api_as
from tests.factories import TrialFactory, ctcae_term


@pytest.fixture
def trial(db):
    return TrialFactory(ind_number="654321", eu_ct_number="2026-500777-12-00")


def when(**delta) -> str:
    return (timezone.now() - timedelta(**delta)).isoformat()


def case(subject, **extra) -> dict:
    ctcae_term("Febrile neutropenia")  # the dictionary is loaded
    return {"subject": subject.pk, "verbatim_term": "neutropenic fever",
            "term": "Febrile neutropenia", "onset_date": str(timezone.localdate() - timedelta(3)),
            "severity_grade": 3, "seriousness_criteria": ["hospitalization"],
            "investigator_causality": "related", "site_awareness_at": when(days=2),
            "sponsor_awareness_at": when(days=2), **extra}


def rules_of(event_id: int, client, status: str = "open") -> set[tuple[str, str]]:
    body = client.get(f"/api/v1/reporting-obligations/?adverse_event={event_id}"
                      f"&status={status}").json()
    return {(o["rule"], o["recipient"]) for o in body["results"]}


def test_fatal_upgrade_end_to_end(subject, cra, monitor):
    created = api_as(cra).post("/api/v1/adverse-events/", case(subject), format="json")
    assert created.status_code == 201, created.json()
    event = created.json()
    assert (event["term"], event["meddra_code"], event["serious"]) == (
        "Febrile neutropenia", ctcae_term("Febrile neutropenia").meddra_code, True)
    assert event["is_susar"] is False
    assert event["review_status"] == "pending"

    reviewed = api_as(monitor).post(f"/api/v1/adverse-events/{event['id']}/review/", {
        "password": PASSWORD, "sponsor_causality": "related", "expectedness": "unexpected",
        "rsi_version": "IB v7, section 6.4"}, format="json")
    assert reviewed.status_code == 200, reviewed.json()
    assert reviewed.json()["is_susar"] is True
    assert rules_of(event["id"], api_as(monitor)) == {
        ("FDA_IND_15_DAY", "FDA"), ("FDA_IND_15_DAY", "INVESTIGATORS"),
        ("EU_CTR_15_DAY", "EU_EUDRAVIGILANCE")}

    followed = api_as(cra).post(f"/api/v1/adverse-events/{event['id']}/follow-ups/", {
        "information_received_at": timezone.now().isoformat(), "narrative": "Died on day 4.",
        "changes": {"severity_grade": 5, "outcome": "fatal", "seriousness_criteria": ["death"],
                    "end_date": str(timezone.localdate())}}, format="json")
    assert followed.status_code == 201, followed.json()
    assert rules_of(event["id"], api_as(monitor)) == {
        ("FDA_IND_15_DAY", "FDA"), ("FDA_IND_15_DAY", "INVESTIGATORS"),
        ("EU_CTR_15_DAY", "EU_EUDRAVIGILANCE"), ("FDA_IND_7_DAY", "FDA"),
        ("EU_CTR_7_DAY", "EU_EUDRAVIGILANCE"), ("EU_CTR_8_DAY_FOLLOW_UP", "EU_EUDRAVIGILANCE")}
    versions = api_as(cra).get(f"/api/v1/adverse-events/{event['id']}/versions/").json()
    assert [v["kind"] for v in versions] == ["initial", "review", "follow_up"]
    assert versions[-1]["changes"]["severity_grade"] == [3, 5]

    seven = ReportingObligation.objects.get(adverse_event_id=event["id"], rule="FDA_IND_7_DAY")
    submitted = api_as(monitor).post(f"/api/v1/reporting-obligations/{seven.pk}/submit/", {
        "submitted_at": timezone.now().isoformat(), "reference": "FDA-2026-0001"},
        format="json")
    assert submitted.status_code == 200, submitted.json()
    assert (submitted.json()["status"], submitted.json()["on_time"]) == ("submitted", True)
    again = api_as(monitor).post(f"/api/v1/reporting-obligations/{seven.pk}/submit/", {
        "submitted_at": timezone.now().isoformat(), "reference": "FDA-2026-0002"},
        format="json")
    assert again.status_code == 400
    assert ReportingObligation.objects.get(pk=seven.pk).reference == "FDA-2026-0001"


def test_downgrade_end_to_end(subject, cra, monitor):
    event = api_as(cra).post("/api/v1/adverse-events/", case(subject), format="json").json()
    review = {"password": PASSWORD, "sponsor_causality": "related", "expectedness": "unexpected"}
    api_as(monitor).post(f"/api/v1/adverse-events/{event['id']}/review/", review, format="json")
    fda = ReportingObligation.objects.get(adverse_event_id=event["id"], rule="FDA_IND_15_DAY",
                                          recipient="FDA")
    api_as(monitor).post(f"/api/v1/reporting-obligations/{fda.pk}/submit/", {
        "submitted_at": timezone.now().isoformat(), "reference": "FDA-1"}, format="json")
    downgraded = api_as(monitor).post(f"/api/v1/adverse-events/{event['id']}/review/", {
        **review, "expectedness": "expected", "comment": "Listed in the IB"}, format="json")
    assert downgraded.json()["is_susar"] is False
    client = api_as(monitor)
    assert rules_of(event["id"], client) == set()
    assert rules_of(event["id"], client, "submitted") == {("FDA_IND_15_DAY", "FDA")}
    cancelled = client.get(f"/api/v1/reporting-obligations/?adverse_event={event['id']}"
                           "&status=cancelled").json()["results"]
    assert len(cancelled) == 2
    assert all("expected" in o["cancelled_reason"] for o in cancelled)


@pytest.mark.parametrize(("extra", "field"), [
    ({"meddra_code": "10000001"}, "meddra_code"),
    ({"severity_grade": 5}, "outcome"),
    ({"outcome": "fatal"}, "seriousness_criteria"),
    ({"term": "Alopecia"}, "severity_grade"),
    ({"term": "No such term"}, "term"),
    ({"seriousness_criteria": ["sad"]}, "seriousness_criteria"),
    ({"sponsor_causality": "related"}, "sponsor_causality"),
    ({"sponsor_awareness_at": "9999-12-31T23:59:59Z"}, "sponsor_awareness_at"),
    ({"onset_date": "0001-01-01", "end_date": "0001-01-02"}, None),
    ({"severity_grade": 9}, "severity_grade"),
])
def test_a_bad_case_is_a_400_naming_the_field_and_saves_nothing(subject, cra, extra, field):
    response = api_as(cra).post("/api/v1/adverse-events/", case(subject, **extra),
                                format="json")
    assert response.status_code == 400, response.json()
    if field:
        assert field in response.json(), response.json()
    assert not AdverseEvent.objects.exists()
    assert not CaseVersion.objects.exists()


@pytest.mark.parametrize(("body", "field"), [
    ({"changes": {"colour": "red"}}, "colour"),
    ({"changes": {"site_awareness_at": "2026-01-01T00:00:00Z"}}, "site_awareness_at"),
    ({"changes": {"outcome": "fatal"}}, "seriousness_criteria"),
    ({"changes": {"severity_grade": "five"}}, "severity_grade"),
    ({"changes": "not an object"}, "changes"),
    ({"information_received_at": "2000-01-01T00:00:00Z"}, "information_received_at"),
])
def test_a_bad_follow_up_is_a_400_and_changes_nothing(subject, cra, body, field):
    event = api_as(cra).post("/api/v1/adverse-events/", case(subject), format="json").json()
    response = api_as(cra).post(f"/api/v1/adverse-events/{event['id']}/follow-ups/", {
        "information_received_at": timezone.now().isoformat(), "changes": {"outcome":
                                                                          "recovered"}, **body},
        format="json")
    assert response.status_code == 400
    assert field in str(response.json())
    assert CaseVersion.objects.filter(adverse_event_id=event["id"]).count() == 1
    assert AdverseEvent.objects.get(pk=event["id"]).outcome == "unknown"
