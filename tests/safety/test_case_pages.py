"""The case pages: entering an adverse event through the form (times read on the trial's safety
clock), the AE page with its timeline and every reporting obligation, follow-ups that change
the case, and recording a report as submitted."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from croportal.formats import format_date
from safety import rules
from safety.models import AdverseEvent, ReportingObligation
from safety.services import adverse_event_create, adverse_event_follow_up, obligation_submit
from tests.conftest import PASSWORD
from tests.factories import (
    SubjectFactory,
    TrialFactory,
    ctcae_term,
    monitor_of,
    sponsor_viewer_of,
)

BERLIN = ZoneInfo("Europe/Berlin")
NOW = timezone.now().replace(second=0, microsecond=0)
AWARE = NOW - timedelta(days=3)
SEVEN_DAY_RULES = {("FDA_IND_7_DAY", "FDA"), ("EU_CTR_7_DAY", "EU_EUDRAVIGILANCE"),
                   ("EU_CTR_8_DAY_FOLLOW_UP", "EU_EUDRAVIGILANCE")}
FATAL_SUSAR_RULES = SEVEN_DAY_RULES | {("FDA_IND_15_DAY", "FDA"),
                                       ("FDA_IND_15_DAY", "INVESTIGATORS")}


@pytest.fixture
def trial(db):
    return TrialFactory(ind_number="123456", eu_ct_number="2026-500123-11-00",
                        safety_timezone="Europe/Berlin")


def berlin(moment) -> str:
    """A moment as a datetime-local input holds it on the trial's (Berlin) clock."""
    return moment.astimezone(BERLIN).strftime("%Y-%m-%dT%H:%M")


def fatal_sae(**extra) -> dict:
    """The entry form for a fatal febrile neutropenia the investigator relates to the drug."""
    return {
        "verbatim_term": "neutropenic sepsis, died", "term": "Febrile neutropenia",
        "meddra_code": "10016288", "onset_date": (AWARE - timedelta(days=1)).date().isoformat(),
        "severity_grade": "5", "seriousness_criteria": ["death", "hospitalization"],
        "outcome": "fatal", "investigator_causality": "related",
        "site_awareness_at": berlin(AWARE), "sponsor_awareness_at": berlin(AWARE),
        "narrative": "Admitted with fever, died on day 2.", **extra,
    }


def enter(client, user, subject, data):
    client.force_login(user)
    return client.post(reverse("safety:ae_create", args=[subject.pk]), data)


def page(client, user, event) -> str:
    client.force_login(user)
    response = client.get(reverse("safety:ae_detail", args=[event.pk]))
    assert response.status_code == 200
    return response.content.decode()


def obligation_row(html: str, rule: str, recipient: str) -> str:
    found = re.search(rf'<tr data-rule="{rule}" data-recipient="{recipient}".*?</tr>', html, re.S)
    assert found, f"no row for {rule} to {recipient}"
    return found.group(0)


def obligations_of(event, **filters) -> set[tuple[str, str]]:
    return {(o.rule, o.recipient)
            for o in ReportingObligation.objects.filter(adverse_event=event, **filters)}


def susar(subject, monitor, **extra) -> AdverseEvent:
    """A serious (hospitalised) SUSAR entered by the monitor with the sponsor's assessment."""
    fields = {"verbatim_term": "neutropenic fever", "term": ctcae_term("Febrile neutropenia"),
              "onset_date": (AWARE - timedelta(days=1)).date(), "severity_grade": 3,
              "seriousness_criteria": ["hospitalization"], "outcome": "recovering",
              "investigator_causality": "related", "sponsor_causality": "related",
              "expectedness": "unexpected", "site_awareness_at": AWARE,
              "sponsor_awareness_at": AWARE}
    return adverse_event_create(subject=subject, by=monitor, **{**fields, **extra})


# ------------------------------------------------------------------------------ entry form

def test_the_cra_enters_a_fatal_sae_and_the_review_shows_its_obligations(
        client, subject, cra, monitor):
    response = enter(client, cra, subject, fatal_sae())
    event = AdverseEvent.objects.get()
    assert response.status_code == 302
    assert response.headers["Location"] == reverse("safety:ae_detail", args=[event.pk])
    # The datetime-local inputs were read on the trial's Berlin clock.
    assert event.sponsor_awareness_at == AWARE
    assert (event.severity_grade, event.outcome, event.term.meddra_code) == (5, "fatal",
                                                                              "10016288")
    assert event.sponsor_causality is None
    assert not obligations_of(event)

    client.force_login(monitor)
    signed = client.post(reverse("safety:ae_review", args=[event.pk]), {
        "password": PASSWORD, "sponsor_causality": "related", "expectedness": "unexpected"})
    assert signed.status_code == 302
    assert obligations_of(event) == FATAL_SUSAR_RULES
    html = page(client, monitor, event)
    for obligation in ReportingObligation.objects.filter(adverse_event=event):
        days = 7 if obligation.rule.endswith("7_DAY") else 15
        due = rules.day_zero(obligation.clock_start_at, zone="Europe/Berlin") + timedelta(days)
        assert obligation.due_on == due
        row = obligation_row(html, obligation.rule, obligation.recipient)
        assert f'<td class="due-on">{format_date(due)}</td>' in row
        assert "days left" in row
    assert 'id="susar-flag">SUSAR</mark>' in html


def test_the_monitor_enters_a_susar_with_the_sponsors_assessment_at_once(
        client, subject, monitor):
    enter(client, monitor, subject, fatal_sae(sponsor_causality="related",
                                              expectedness="unexpected", rsi_version="IB v4"))
    event = AdverseEvent.objects.get()
    assert (event.is_susar, event.rsi_version) == (True, "IB v4")
    assert obligations_of(event) == FATAL_SUSAR_RULES
    clock = {o.clock_start_at for o in ReportingObligation.objects.filter(adverse_event=event)}
    assert clock == {AWARE}  # the initial report's receipt: Day 0 is the sponsor's awareness


def test_the_entry_form_states_the_trial_zone_and_asks_the_sponsor_only_of_the_monitor(
        client, subject, cra, monitor):
    client.force_login(cra)
    html = client.get(reverse("safety:ae_create", args=[subject.pk])).content.decode()
    assert "times in Europe/Berlin" in html
    assert 'type="datetime-local"' in html
    assert 'name="sponsor_causality"' not in html
    assert 'name="expectedness"' not in html
    assert 'src="/static/js/ctcae_pick.js"' in html
    assert "<script>" not in html
    client.force_login(monitor)
    html = client.get(reverse("safety:ae_create", args=[subject.pk])).content.decode()
    assert 'name="sponsor_causality"' in html
    assert 'name="expectedness"' in html


def test_a_grade_the_term_does_not_have_is_a_form_error_and_saves_nothing(
        client, subject, cra):
    data = fatal_sae(severity_grade="2", outcome="recovered", seriousness_criteria=[
        "hospitalization"])
    response = enter(client, cra, subject, data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == ["severity_grade"]
    assert "no grade 2 for Febrile neutropenia" in errors["severity_grade"][0]
    assert not AdverseEvent.objects.exists()


def test_a_cra_cannot_give_the_sponsors_assessment_by_posting_it(client, subject, cra):
    response = enter(client, cra, subject, fatal_sae(expectedness="unexpected"))
    assert response.status_code == 302
    assert AdverseEvent.objects.get().expectedness is None  # not a field of the CRA's form


def test_a_crm_gets_403_on_the_entry_form(client, subject, crm):
    client.force_login(crm)
    url = reverse("safety:ae_create", args=[subject.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, fatal_sae()).status_code == 403
    assert not AdverseEvent.objects.exists()


def test_the_ctcae_picker_lists_terms_with_code_soc_and_grades(client, cra):
    client.force_login(cra)
    html = client.get(reverse("safety:ctcae_search"), {"q": "neutro", "pick": "1"},
                      HTTP_HX_REQUEST="true").content.decode()
    assert ('data-term="Febrile neutropenia" data-code="10016288" '
            'data-soc="Blood and lymphatic system disorders" data-grades="3, 4, 5"') in html
    assert "grades 3, 4, 5" in html


# ------------------------------------------------------------------------------ the AE page

def test_sponsor_viewers_get_404_on_the_ae_page(client, subject, cra, trial):
    event = susar(subject, monitor_of(trial))
    client.force_login(sponsor_viewer_of(trial))
    assert client.get(reverse("safety:ae_detail", args=[event.pk])).status_code == 404


def test_the_ae_page_shows_the_case_side_by_side_and_its_flags(client, subject, monitor):
    event = susar(subject, monitor, sponsor_causality="not_related", expectedness="unexpected",
                  site_awareness_at=AWARE - timedelta(hours=30))
    event.refresh_from_db()
    html = page(client, monitor, event)
    assert '<td id="investigator-causality">Related</td>' in html
    assert '<td id="sponsor-causality">Not related</td>' in html
    assert "MedDRA 10016288, Blood and lymphatic system disorders" in html
    assert 'class="late">Site report late (&gt; 24 h)' in html
    assert f"medical review due {format_date(event.review_due_on)}" in html
    # EU CTR: the investigator's "related" stands, so it is an EU SUSAR (not an FDA one).
    assert obligations_of(event) == {("EU_CTR_15_DAY", "EU_EUDRAVIGILANCE")}


def test_an_overdue_obligation_is_shown_late(client, subject, monitor):
    long_ago = NOW - timedelta(days=20)
    event = susar(subject, monitor, site_awareness_at=long_ago, sponsor_awareness_at=long_ago,
                  onset_date=long_ago.date())
    html = page(client, monitor, event)
    row = obligation_row(html, "EU_CTR_15_DAY", "EU_EUDRAVIGILANCE")
    overdue = (rules.day_zero(NOW, zone="Europe/Berlin")
               - rules.day_zero(long_ago, zone="Europe/Berlin") - timedelta(days=15)).days
    assert 'class="late"' in row
    assert f"overdue by {overdue} days" in row


def test_the_submit_form_records_a_report_on_time(client, subject, monitor):
    event = susar(subject, monitor)
    obligation = ReportingObligation.objects.get(adverse_event=event, rule="EU_CTR_15_DAY")
    client.force_login(monitor)
    sent = NOW - timedelta(hours=1)
    response = client.post(reverse("safety:obligation_submit", args=[obligation.pk]),
                           {"submitted_at": berlin(sent), "reference": "EV-2026-0001"})
    assert response.status_code == 302
    assert response.headers["Location"] == reverse("safety:ae_detail", args=[event.pk])
    obligation.refresh_from_db()
    assert (obligation.status, obligation.submitted_at, obligation.reference,
            obligation.on_time) == ("submitted", sent, "EV-2026-0001", True)
    row = obligation_row(page(client, monitor, event), "EU_CTR_15_DAY", "EU_EUDRAVIGILANCE")
    assert "ref EV-2026-0001" in row
    assert '<span class="on-time">on time</span>' in row


def test_a_refused_submission_re_renders_the_page_with_400(client, subject, monitor):
    event = susar(subject, monitor)
    obligation = ReportingObligation.objects.get(adverse_event=event, rule="EU_CTR_15_DAY")
    client.force_login(monitor)
    response = client.post(reverse("safety:obligation_submit", args=[obligation.pk]),
                           {"submitted_at": berlin(AWARE - timedelta(days=1)),
                            "reference": "EV-1"})
    assert response.status_code == 400
    assert "A report cannot be sent before its clock started." in response.content.decode()
    assert ReportingObligation.objects.get(pk=obligation.pk).status == "open"


def test_the_cra_may_not_submit_a_report(client, subject, cra, monitor):
    event = susar(subject, monitor)
    obligation = ReportingObligation.objects.get(adverse_event=event, rule="EU_CTR_15_DAY")
    client.force_login(cra)
    response = client.post(reverse("safety:obligation_submit", args=[obligation.pk]),
                           {"submitted_at": berlin(NOW), "reference": "EV-1"})
    assert response.status_code == 403
    assert 'class="obligation-submit"' not in page(client, cra, event)


# ------------------------------------------------------------------------------ follow-ups

def follow_up_form(client, user, event, **changes) -> dict:
    """What the page's follow-up form posts: its prefilled values, with the changes made."""
    client.force_login(user)
    response = client.get(reverse("safety:ae_detail", args=[event.pk]))
    form = response.context["follow_up_form"]
    data = {}
    for field in form:
        value = changes.get(field.name, field.value())
        if value in (None, ""):
            continue
        data[field.html_name] = [str(v) for v in value] if isinstance(value, list) else (
            value.isoformat() if hasattr(value, "isoformat") else str(value))
    return data


def test_a_follow_up_upgrading_the_case_to_fatal_adds_the_seven_day_obligations(
        client, subject, cra, monitor):
    event = susar(subject, monitor)
    assert obligations_of(event) == {("FDA_IND_15_DAY", "FDA"), ("FDA_IND_15_DAY", "INVESTIGATORS"),
                                     ("EU_CTR_15_DAY", "EU_EUDRAVIGILANCE")}
    received = NOW - timedelta(days=1)
    data = follow_up_form(client, cra, event, severity_grade="5", outcome="fatal",
                          seriousness_criteria=["death", "hospitalization"],
                          information_received_at=berlin(received),
                          narrative="The subject died.")
    response = client.post(reverse("safety:ae_follow_up", args=[event.pk]), data)
    assert response.status_code == 302
    version = event.versions.get(number=2)
    assert version.received_at == received
    assert set(version.changes) == {"severity_grade", "outcome", "seriousness_criteria"}
    opened = {(o.rule, o.recipient): o.clock_start_at
              for o in ReportingObligation.objects.filter(adverse_event=event, status="open")}
    assert set(opened) >= SEVEN_DAY_RULES
    assert {opened[key] for key in SEVEN_DAY_RULES} == {received}
    assert ("EU_CTR_15_DAY", "EU_EUDRAVIGILANCE") in opened  # the 15-day stays open
    html = page(client, cra, event)
    assert "severity grade: 3 → 5" in html
    assert "The subject died." in html
    assert "outcome: recovering → fatal" in html


def test_a_follow_up_that_changes_nothing_re_renders_the_page_with_400(
        client, subject, cra, monitor):
    event = susar(subject, monitor)
    data = follow_up_form(client, cra, event, information_received_at=berlin(NOW))
    response = client.post(reverse("safety:ae_follow_up", args=[event.pk]), data)
    assert response.status_code == 400
    assert response.context["follow_up_form"].non_field_errors() == [
        "A follow-up brings changes or a narrative."]
    assert event.versions.count() == 1


def test_a_follow_up_with_a_grade_the_term_lacks_is_an_error_on_the_grade(
        client, subject, cra, monitor):
    event = susar(subject, monitor)
    data = follow_up_form(client, cra, event, severity_grade="1",
                          information_received_at=berlin(NOW))
    response = client.post(reverse("safety:ae_follow_up", args=[event.pk]), data)
    assert response.status_code == 400
    assert list(response.context["follow_up_form"].errors) == ["severity_grade"]
    assert AdverseEvent.objects.get(pk=event.pk).severity_grade == 3


def test_a_follow_up_recoding_the_term_changes_it(client, subject, cra, monitor):
    event = susar(subject, monitor)
    data = follow_up_form(client, cra, event, term="Sepsis", information_received_at=berlin(NOW))
    response = client.post(reverse("safety:ae_follow_up", args=[event.pk]), data)
    assert response.status_code == 302
    assert AdverseEvent.objects.get(pk=event.pk).term.term == "Sepsis"


def test_a_reassessment_as_expected_shows_the_obligations_cancelled_with_the_reason(
        client, subject, monitor):
    event = susar(subject, monitor)
    data = follow_up_form(client, monitor, event, expectedness="expected",
                          information_received_at=berlin(NOW))
    assert client.post(reverse("safety:ae_follow_up", args=[event.pk]), data).status_code == 302
    assert not obligations_of(event, status="open")
    row = obligation_row(page(client, monitor, event), "EU_CTR_15_DAY", "EU_EUDRAVIGILANCE")
    assert "No longer a SUSAR under EU CTR: assessed as expected" in row


# ---------------------------------------------------------------------------- query count

def case_with_follow_ups(subject, monitor, count: int) -> AdverseEvent:
    """A SUSAR whose initial reports were submitted, then `count` follow-ups, each owing its
    follow-up reports: count + 1 versions, 3 + 3 * count obligations."""
    event = susar(subject, monitor)
    for obligation in ReportingObligation.objects.filter(adverse_event=event):
        obligation_submit(obligation=obligation, by=monitor, reference="R-1",
                          submitted_at=AWARE + timedelta(hours=1))
    for n in range(count):
        adverse_event_follow_up(event=event, by=monitor, changes={},
                                information_received_at=NOW - timedelta(hours=24 - n),
                                narrative=f"Follow-up {n + 1}")
    return event


def queries_of_page(client, event) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("safety:ae_detail", args=[event.pk]))
    assert response.status_code == 200
    return len(queries.captured_queries)


def test_the_ae_page_queries_do_not_grow_with_versions_and_obligations(
        client, site, monitor):
    small = case_with_follow_ups(SubjectFactory(site=site, enrolled=True), monitor, 1)
    large = case_with_follow_ups(SubjectFactory(site=site, enrolled=True), monitor, 20)
    assert (large.versions.count(), large.obligations.count()) == (21, 63)
    client.force_login(monitor)
    queries_of_page(client, small)  # the session's first request warms its caches
    assert queries_of_page(client, large) == queries_of_page(client, small)


def test_the_site_page_links_the_entry_form_for_those_who_enter_events(client, site, cra, crm,
                                                                         subject):
    form = reverse("safety:ae_create", args=[subject.pk])
    for person, shown in ((cra, True), (crm, False)):
        client.force_login(person)
        html = client.get(reverse("sites:detail", args=[site.pk])).content.decode()
        assert (f'href="{form}"' in html) is shown, person


def test_the_review_form_records_the_rsi_version_the_expectedness_was_judged_against(
        client, subject, cra, monitor):
    enter(client, cra, subject, fatal_sae())
    event = AdverseEvent.objects.get()
    client.force_login(monitor)
    response = client.post(reverse("safety:ae_review", args=[event.pk]), {
        "sponsor_causality": "related", "expectedness": "unexpected",
        "rsi_version": "IB v7, section 6.4", "password": PASSWORD})
    assert response.status_code == 302
    event.refresh_from_db()
    assert (event.expectedness, event.rsi_version) == ("unexpected", "IB v7, section 6.4")
    assert "(RSI IB v7, section 6.4)" in page(client, monitor, event)


def test_a_follow_up_on_a_case_changed_meanwhile_is_refused_not_merged(client, subject, cra):
    """Two people open the follow-up form; the second save would send the first one's change
    back to its old value (the form holds the case as it was): it is refused, nothing saved."""
    enter(client, cra, subject, fatal_sae(severity_grade="4", outcome="not_recovered",
                                          seriousness_criteria=["hospitalization"]))
    event = AdverseEvent.objects.get()
    opened = follow_up_form(client, cra, event, outcome="recovering",
                            information_received_at=berlin(timezone.now()))
    adverse_event_follow_up(event=event, by=cra, information_received_at=timezone.now(),
                            changes={"outcome": "recovered"})
    response = client.post(reverse("safety:ae_follow_up", args=[event.pk]), opened)
    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode()
    event.refresh_from_db()
    assert event.outcome == "recovered"
    assert event.versions.count() == 2


def test_the_api_refuses_a_follow_up_with_a_stale_if_match(subject, cra):
    from tests.conftest import api_as

    event = adverse_event_create(
        subject=subject, by=cra, verbatim_term="fever", term=ctcae_term("Febrile neutropenia"),
        onset_date=AWARE.date(), severity_grade=3, seriousness_criteria=["hospitalization"],
        site_awareness_at=AWARE, sponsor_awareness_at=AWARE)
    body = {"information_received_at": timezone.now().isoformat(),
            "changes": {"outcome": "recovered"}}
    stale = api_as(cra).post(f"/api/v1/adverse-events/{event.pk}/follow-ups/", body,
                             format="json", HTTP_IF_MATCH=f'"{event.revision - 1 or 99}"')
    assert stale.status_code == 412
    assert event.versions.count() == 1
    fresh = api_as(cra).post(f"/api/v1/adverse-events/{event.pk}/follow-ups/", body,
                             format="json", HTTP_IF_MATCH=f'"{event.revision}"')
    assert fresh.status_code == 201
