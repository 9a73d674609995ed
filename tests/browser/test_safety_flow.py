"""A fatal SAE from the site to its reporting clocks, through the real pages only: the site's
CRA enters it, coding the term with the CTCAE search; the medical monitor finds it at the top of
the queue, opens it, signs the review (unexpected, related) and sees on the AE page the due
dates of the reports the review made it owe (FDA 7-day and 15-day, EU 7-day)."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from croportal.formats import format_date
from safety import rules
from safety.models import AdverseEvent, ReportingObligation
from safety.services import adverse_event_create
from staffing.models import Signature
from tests.browser.conftest import ensure_ctcae_terms
from tests.conftest import PASSWORD
from tests.factories import (
    SiteFactory,
    SubjectFactory,
    TrialFactory,
    cra_of,
    ctcae_term,
    monitor_of,
)

# transaction=True: the live server's thread sees the committed rows (and these run after the
# rollback-only tests, as the other browser tests do).
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ZONE = "Europe/Berlin"

# Runs before any page script: records every Content-Security-Policy violation.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


def on_trial_clock(moment) -> str:
    """A moment as typed into a datetime-local input on the trial's safety clock."""
    return moment.astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def study(transactional_db, live_server):
    """A trial under both an IND and the EU CTR, its site's CRA, its medical monitor, and a
    serious case already waiting for review whose clock is a day younger."""
    ensure_ctcae_terms()
    trial = TrialFactory(ind_number="123456", eu_ct_number="2026-500123-11-00",
                         safety_timezone=ZONE)
    site = SiteFactory(trial=trial, activated=True)
    subject, other = (SubjectFactory(site=site, enrolled=True) for _ in range(2))
    cra, monitor = cra_of(site), monitor_of(trial)
    recent = timezone.now() - timedelta(hours=1)
    younger = adverse_event_create(
        subject=other, by=cra, verbatim_term="pneumonia", term=ctcae_term("Sepsis"),
        onset_date=recent.date() - timedelta(days=1), severity_grade=3,
        seriousness_criteria=["hospitalization"], investigator_causality="not_related",
        site_awareness_at=recent, sponsor_awareness_at=recent)
    return {"trial": trial, "subject": subject, "cra": cra, "monitor": monitor,
            "younger": younger}


def test_a_fatal_sae_entered_by_the_cra_gets_its_clocks_from_the_monitors_review(
        study, live_server, page, login):
    page.add_init_script(RECORD_VIOLATIONS)
    aware = timezone.now() - timedelta(days=2)

    # 1. The CRA enters the case, coding it with the CTCAE search-as-you-type.
    login(study["cra"].username)
    page.goto(f"{live_server.url}/safety/subjects/{study['subject'].pk}/adverse-events/new/")
    form = page.locator("form#ae-create-form")
    expect(page.locator("#ae-form-zone")).to_contain_text(f"times in {ZONE}")
    form.get_by_label("Verbatim term").fill("febrile neutropenia, died of sepsis")
    form.locator("#ae-search").press_sequentially("neutro")
    option = form.locator("button.ctcae-option", has_text="Febrile neutropenia")
    expect(option).to_be_visible()
    option.click()
    expect(form.locator("#id_term")).to_have_value("Febrile neutropenia")
    expect(form.locator("#ae-chosen")).to_contain_text("MedDRA 10016288")
    expect(form.locator("#ae-chosen")).to_contain_text("grades 3, 4, 5")
    form.get_by_label("Onset date").fill((aware - timedelta(days=1)).date().isoformat())
    form.get_by_label("Severity grade (CTCAE)").select_option("5")
    form.get_by_label("Death", exact=True).check()
    form.get_by_label("Outcome").select_option("fatal")
    form.get_by_label("Investigator causality").select_option("related")
    form.get_by_label("Site awareness").fill(on_trial_clock(aware))
    form.get_by_label("Sponsor awareness").fill(on_trial_clock(aware + timedelta(hours=3)))
    form.get_by_label("Narrative").fill("Admitted with fever on day 8, died on day 10.")
    form.get_by_role("button", name="Record adverse event").click()
    expect(page.get_by_role("status")).to_contain_text("Adverse event recorded.")
    event = AdverseEvent.objects.exclude(pk=study["younger"].pk).get()
    expect(page).to_have_url(f"{live_server.url}/safety/adverse-events/{event.pk}/")
    assert (event.term.term, event.severity_grade, event.outcome) == ("Febrile neutropenia", 5,
                                                                     "fatal")
    assert event.seriousness_criteria == ["death"]
    assert not ReportingObligation.objects.filter(adverse_event=event).exists()

    # 2. The medical monitor finds it at the top of the queue (its review is due first).
    page.context.clear_cookies()
    login(study["monitor"].username)
    page.goto(f"{live_server.url}/safety/queue/")
    rows = page.locator("#queue-case-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_attribute("data-case", str(event.pk))
    # With its 7- and 15-day clocks from Day 0 (its sponsor awareness on the trial's clock).
    event.refresh_from_db()
    day_zero = rules.day_zero(event.sponsor_awareness_at, zone=ZONE)
    assert event.day_zero == day_zero
    for clock, days in (("seven-day", 7), ("fifteen-day", 15)):
        expect(rows.first.locator(f".{clock}")).to_contain_text(
            format_date(day_zero + timedelta(days=days)))
    rows.first.get_by_role("link", name=f"AE #{event.pk}").click()
    expect(page).to_have_url(f"{live_server.url}/safety/adverse-events/{event.pk}/")

    # 3. The signed review: unexpected and related make it a fatal SUSAR under both frameworks.
    review = page.locator("form#review-form")
    review.get_by_label("Sponsor causality").select_option("related")
    review.get_by_label("Expectedness").select_option("unexpected")
    review.get_by_label("Password").fill(PASSWORD)
    review.get_by_role("button", name="Sign as medically reviewed").click()
    expect(page.get_by_role("status")).to_contain_text("Medical review signed.")
    expect(page.locator("#susar-flag")).to_have_text("SUSAR")

    # 4. The due dates shown are Day 0 (the signing date on the trial's clock) + 7 / + 15.
    signed_at = Signature.objects.get(object_id=event.pk).signed_at
    for rule, recipient, days in (("FDA_IND_7_DAY", "FDA", 7), ("FDA_IND_15_DAY", "FDA", 15),
                                  ("EU_CTR_7_DAY", "EU_EUDRAVIGILANCE", 7)):
        obligation = ReportingObligation.objects.get(adverse_event=event, rule=rule,
                                                     recipient=recipient)
        assert obligation.clock_start_at == signed_at
        due = rules.day_zero(obligation.clock_start_at, zone=ZONE) + timedelta(days=days)
        row = page.locator(f'#obligations tr[data-rule="{rule}"][data-recipient="{recipient}"]')
        expect(row.locator("td.due-on")).to_have_text(format_date(due))
        expect(row.locator("td.time-left")).to_contain_text(re.compile(rf"\b{days} days left"))
    assert page.evaluate("window.__cspViolations") == []
