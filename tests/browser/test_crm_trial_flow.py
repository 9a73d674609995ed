"""A CRM allowed to create trials runs a new trial from the "New trial" page to its first
enrolled subject through the real pages only: milestones and ICF on the trial page, a site
filed, dated, moved through its lifecycle and activated on its checklist, a subject screened
and enrolled; the trial page and the home portfolio then count the subject."""

import re
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from playwright.sync_api import Page, expect

from croportal.formats import format_date
from sites.models import DocumentKind, EssentialDocument
from sites.services import REQUIRED_DOCUMENTS, document_update

# transaction=True also makes pytest-django run these after the rollback-only tests: their
# flush empties tables (the CTCAE dictionary) that a data migration filled.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PROTOCOL, TARGET, SUBJECT = "FLOW-301", 20, "301-001"


def _submit(page: Page, form_id: str, button: str) -> None:
    page.locator(f"form#{form_id}").get_by_role("button", name=button).click()


def _open(page: Page, summary: str) -> None:
    """Forms folded in a <details> are hidden until their summary is clicked."""
    page.locator("summary", has_text=summary).click()


def test_crm_creates_a_trial_activates_a_site_and_enrolls_a_subject(live_world, live_server,
                                                                    page, login):
    # How an administrator lets a CRM create trials: the global model permission.
    live_world.crm.user_permissions.add(Permission.objects.get(codename="add_trial"))
    today = timezone.localdate()

    def day(offset: int) -> str:
        return (today + timedelta(days=offset)).isoformat()

    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    login(live_world.crm.username)

    # 1. The home portfolio before: the CRM's existing trials only.
    page.goto(f"{live_server.url}/")
    portfolio = page.locator("section#home-crm")
    expect(portfolio.get_by_role("heading", name="My trials — portfolio")).to_be_visible()
    rows = portfolio.locator("table.portfolio tbody tr")
    expect(rows.first).to_be_visible()
    rows_before = rows.count()
    assert rows_before >= 1
    expect(portfolio).to_contain_text(live_world.trial_a.protocol_number)
    expect(portfolio).not_to_contain_text(PROTOCOL)

    # 2. The "New trial" page (the global add_trial permission shows the button).
    portfolio.get_by_role("button", name="New trial").click()
    expect(page).to_have_url(f"{live_server.url}/trials/new/")
    form = page.locator("form#trial-create-form")
    form.get_by_label("Protocol number").fill(PROTOCOL)
    form.get_by_label("Title").fill("Flow trial of the browser test")
    form.get_by_label("Sponsor").select_option(label=live_world.sponsor_a.name)
    form.get_by_label("Phase").select_option("II")
    form.get_by_label("Target enrollment").fill(str(TARGET))
    expect(form.get_by_label("IND number")).to_have_value("")  # no IND: no FDA forms
    _submit(page, "trial-create-form", "Create trial")
    expect(page.get_by_role("status")).to_contain_text("Trial created; you are its CRM.")
    expect(page).to_have_url(re.compile(rf"^{re.escape(live_server.url)}/trials/\d+/$"))
    trial_url = page.url
    expect(page.get_by_role("heading", name=PROTOCOL, level=1)).to_be_visible()
    expect(page.locator("#trial-status")).to_have_text("Planning")
    expect(page.locator("#trial-header")).to_contain_text(f"Enrolled 0 / {TARGET}")

    # 3. FPI and LPI milestones, and ICF 1.0, on the trial page.
    for kind, label, planned in (("fpi", "First patient in", day(-30)),
                                 ("lpi", "Last patient in", day(300))):
        _open(page, "Add a milestone")
        page.locator("#id_milestone_kind").select_option(kind)
        page.locator("#id_milestone_planned_date").fill(planned)
        _submit(page, "milestone-form", "Add milestone")
        expect(page.get_by_role("status")).to_contain_text("Milestone added.")
        expect(page.locator("#milestone-table tbody tr", has_text=label)).to_contain_text(
            format_date(date.fromisoformat(planned)))
    expect(page.locator("#milestone-table tbody tr")).to_have_count(2)
    expect(page.locator("#enrollment-summary")).not_to_contain_text("No plan")

    _open(page, "Record an ICF version")
    page.locator("#id_icf_version").fill("1.0")
    _submit(page, "consent-version-form", "Record ICF version")
    expect(page.get_by_role("status")).to_contain_text("ICF version recorded.")
    expect(page.locator("#trial-consent-versions")).to_contain_text("ICF 1.0")

    # 4. A site, through the "Add site" page.
    page.get_by_role("button", name="Add site").click()
    expect(page).to_have_url(re.compile(r"/trials/\d+/sites/new/$"))
    form = page.locator("form#site-create-form")
    form.locator("#id_number").fill("301")
    form.get_by_label("Institution").fill("Flow University Hospital")
    form.get_by_label("Country").fill("DE")
    form.get_by_label("City").fill("Berlin")
    form.get_by_label("Target enrollment").fill(str(TARGET))
    _submit(page, "site-create-form", "Add site")
    expect(page.get_by_role("status")).to_contain_text("Site added.")
    expect(page).to_have_url(re.compile(rf"^{re.escape(live_server.url)}/sites/\d+/$"))
    site_url = page.url
    expect(page.locator("#site-status")).to_have_text("Identified")

    # 5a. The checklist asks for the documents of a trial without an IND: the CRM files each as
    # received (a filer never approves: four eyes), a second person approves them.
    checklist = page.locator("#site-checklist")
    missing = checklist.locator('li.missing[data-key^="document:"]')
    expect(missing).to_have_count(len(REQUIRED_DOCUMENTS))
    kinds = [key.removeprefix("document:")
             for key in (missing.nth(i).get_attribute("data-key")
                         for i in range(missing.count()))]
    assert sorted(kinds) == sorted(REQUIRED_DOCUMENTS)
    assert DocumentKind.FORM_FDA_1572 not in kinds
    for filed, kind in enumerate(kinds, start=1):
        _open(page, "File a document")
        page.locator("#id_document_kind").select_option(kind)
        page.locator("#id_document_version").fill("1")
        page.locator("#id_document_effective_on").fill(day(-60))
        page.locator("#id_document_status").select_option("received")
        _submit(page, "document-form", "File document")
        expect(page.get_by_role("status")).to_contain_text("Document filed.")
        expect(page.locator("#document-table tbody tr")).to_have_count(filed)
        expect(checklist.locator(f'li[data-key="document:{kind}"]')).not_to_have_class("done")
    site_id = int(site_url.rstrip("/").rsplit("/", 1)[-1])
    for document in EssentialDocument.objects.filter(site_id=site_id):
        document_update(document=document, by=live_world.admin, reason="Reviewed",
                        status="approved")
    page.reload()
    expect(page.locator("#document-table tbody tr", has_text="current")).to_have_count(len(kinds))
    expect(missing).to_have_count(0)

    # 5b. ICF 1.0 approved and in effect at the site.
    _open(page, "Record an ICF version's approval at this site")
    page.locator("#id_site_icf_consent_version").select_option(label="ICF 1.0")
    page.locator("#id_site_icf_ethics_approved_on").fill(day(-45))
    page.locator("#id_site_icf_effective_on").fill(day(-40))
    _submit(page, "site-icf-form", "Record approval")
    expect(page.get_by_role("status")).to_contain_text("ICF version recorded at the site.")
    expect(page.locator("#site-consent-versions tbody")).to_contain_text("ICF 1.0")

    # 5c. Contract and SIV dates through the site edit form, with the reason.
    page.get_by_role("button", name="Edit site").click()
    form = page.locator("form#site-edit-form")
    form.get_by_label("Contract executed on").fill(day(-20))
    form.get_by_label("Initiation visit (SIV) done on").fill(day(-10))
    reason = form.get_by_label("Reason for change")
    expect(reason).to_have_attribute("required", "")  # the browser refuses an empty reason
    reason.fill("CTA executed and SIV held")
    _submit(page, "site-edit-form", "Save")
    expect(page.get_by_role("status")).to_contain_text("Site updated.")
    expect(page).to_have_url(site_url)
    expect(checklist.locator('li[data-key="contract"]')).to_have_class("done")
    expect(checklist.locator('li[data-key="initiation_visit"]')).to_have_class("done")
    expect(checklist.get_by_role("heading")).to_contain_text("complete")

    # 5d. Qualified → selected → initiated, then the Activate button of the complete checklist.
    expect(page.locator("form#site-activate-form")).to_have_count(0)
    for status, label in (("qualified", "Qualified"), ("selected", "Selected"),
                          ("initiated", "Initiated")):
        _open(page, "Change status")
        form = page.locator("form#site-transition-form")
        form.get_by_label("New status").select_option(status)
        form.get_by_label("Reason for change").fill(f"Site {label.lower()}")
        _submit(page, "site-transition-form", "Change status")
        expect(page.get_by_role("status")).to_contain_text("Site status changed.")
        expect(page.locator("#site-status")).to_have_text(label)
    expect(page.locator("#site-subjects")).to_contain_text("Subjects are screened at an active")
    activate = page.locator("form#site-activate-form")
    expect(activate.get_by_label("Reason for change")).to_have_value(
        "Activation checklist complete")
    activate.get_by_role("button", name="Activate").click()
    expect(page.get_by_role("status")).to_contain_text("Site status changed.")
    expect(page.locator("#site-status")).to_have_text("Active")
    expect(page.locator("dl.site-dates")).to_contain_text(format_date(today))

    # 6. A subject screened on ICF 1.0 today, then enrolled today.
    _open(page, "Screen a subject")
    form = page.locator("form#subject-screen-form")
    form.get_by_label("Subject number").fill(SUBJECT)
    form.get_by_label("ICF version signed").select_option(label="ICF 1.0")
    form.get_by_label("Consent date").fill(today.isoformat())
    _submit(page, "subject-screen-form", "Start screening")
    expect(page.get_by_role("status")).to_contain_text("Subject in screening.")
    row = page.locator("#subject-table tbody tr", has_text=SUBJECT)
    expect(row).to_contain_text("Screening")
    expect(row).to_contain_text("1.0")
    transition = row.locator("form.subject-transition")
    transition.get_by_label("New status").select_option("enrolled")
    transition.get_by_label("On", exact=True).fill(today.isoformat())
    transition.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text(f"Subject {SUBJECT} updated.")
    expect(row).to_contain_text("Enrolled")
    expect(row.locator("td").nth(4)).to_have_text(format_date(today))
    expect(page.get_by_text(f"Enrolled 1 / {TARGET}")).to_be_visible()

    # 7. The trial page counts the subject and draws its enrollment chart.
    page.goto(trial_url)
    expect(page.locator("#enrolled-count")).to_have_text("1")
    expect(page.locator("#enrollment-summary")).to_contain_text(f"1 / {TARGET}")
    expect(page.locator("#enrollment-summary")).to_contain_text("1 screened")
    expect(page.locator("#trial-header")).to_contain_text(f"Enrolled 1 / {TARGET}")
    expect(page.locator("#trial-header")).to_contain_text("Active sites 1")
    expect(page.locator("canvas#enrollment-chart")).to_have_attribute("data-rendered", "true")
    expect(page.locator("canvas#milestone-chart")).to_have_attribute("data-rendered", "true")
    site_row = page.locator("#site-table tbody tr", has_text="Flow University Hospital")
    expect(site_row).to_contain_text("Active")

    # 8. The home portfolio has one more row: the new trial with its one enrolled subject.
    page.goto(f"{live_server.url}/")
    expect(rows).to_have_count(rows_before + 1)
    new_row = portfolio.locator(f'tr[data-trial="{PROTOCOL}"]')
    expect(new_row).to_have_count(1)
    expect(new_row.locator(".enrolled-count")).to_have_text("1")
    expect(new_row.locator("td.enrolled")).to_contain_text(f"1 / {TARGET}")
    expect(new_row.locator("td.sites")).to_contain_text("1 / 1")

    # The portal draws all of it from its own server: no CDN, no third party.
    assert requests, "no request was recorded"
    assert [url for url in requests if not url.startswith(live_server.url)] == []
