"""The site page: activation checklist and lifecycle, documents, ICF versions, subjects."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sites.models import ConsentRecord, EssentialDocument, Site, SiteConsentVersion, Subject
from sites.services import (
    consent_record,
    document_create,
    required_document_kinds,
    site_consent_version_add,
    subject_create,
)
from tests.conftest import approved_document
from tests.factories import (
    AdminFactory,
    EssentialDocumentFactory,
    SiteConsentVersionFactory,
    SiteFactory,
    SubjectFactory,
    sponsor_viewer_of,
)
from trials.services import consent_version_create


@pytest.fixture
def site(trial):
    return SiteFactory(trial=trial, number="101", activated=True)


@pytest.fixture
def second_site(trial):
    """A site not yet active."""
    return SiteFactory(trial=trial)


@pytest.fixture
def sponsor(trial):
    """The trial's sponsor viewer."""
    return sponsor_viewer_of(trial)


@pytest.fixture
def icf(site):
    """ICF 1.0 of the trial, approved and effective at the site."""
    return SiteConsentVersionFactory(site=site, consent_version__version="1.0",
                                     ethics_approved_on=date(2026, 2, 1),
                                     effective_on=date(2026, 2, 10)).consent_version


@pytest.fixture
def subject(site, icf):
    """Enrolled at the site, consented to ICF 1.0."""
    subject = SubjectFactory(site=site, number="101-001", enrolled=True,
                             enrolled_on=date(2026, 5, 1))
    consent_record(subject=subject, consent_version=icf, consented_on=date(2026, 4, 20),
                   by=AdminFactory())
    subject.refresh_from_db()
    return subject


@pytest.fixture
def document(site, cra, admin):
    """The site's delegation log, filed by its CRA, approved by another person."""
    return EssentialDocumentFactory(site=site, by=cra, kind="delegation_log", version="3",
                                    effective_on=date(2026, 4, 1), approved_by=admin)


def page(site) -> str:
    return reverse("sites:detail", args=[site.pk])


def html_of(response) -> str:
    return response.content.decode()


def main_of(response) -> str:
    return html_of(response).split("<main")[1]


def initiated(site: Site, *, documents: bool, today=None) -> Site:
    """The site just before activation: initiated, contract and SIV done, documents optional."""
    on = (today or timezone.localdate()) - timedelta(days=10)
    if documents:
        EssentialDocument.objects.bulk_create([
            EssentialDocument(site=site, kind=kind, version="1", effective_on=on,
                              status="approved")
            for kind in required_document_kinds(trial=site.trial)
        ])
    Site.objects.filter(pk=site.pk).update(status="initiated", contract_executed_on=on,
                                           initiation_visit_on=on)
    site.refresh_from_db()
    return site


def transition(client, site, status: str, reason: str = "Checklist reviewed"):
    return client.post(reverse("sites:transition", args=[site.pk]),
                       {"status": status, "change_reason": reason})


# ----------------------------------------------------------------- checklist and lifecycle

def test_the_checklist_shows_each_item_done_or_missing(crm, second_site, client):
    client.force_login(crm)
    response = client.get(page(second_site))
    html = html_of(response)
    checklist = response.context["checklist"]
    assert not checklist.complete
    assert 'data-key="document:ethics_approval"' in html
    assert "IRB/IEC approval — <small>missing</small>" in html
    assert "Clinical trial agreement executed — <small>not yet</small>" in html
    assert 'id="site-activate-form"' not in html


def test_activation_with_an_incomplete_checklist_lists_what_is_missing(second_site, crm, client):
    site = initiated(second_site, documents=False)
    client.force_login(crm)
    response = transition(client, site, "active")
    assert response.status_code == 200
    html = html_of(response)
    assert "The activation checklist is not complete: " in html
    assert "Investigator&#x27;s brochure; Signed protocol and amendments" in html
    site.refresh_from_db()
    assert (site.status, site.activated_on) == ("initiated", None)


def test_a_complete_checklist_offers_activate_and_the_crm_activates(second_site, crm, client):
    site = initiated(second_site, documents=True)
    client.force_login(crm)
    html = html_of(client.get(page(site)))
    assert 'id="site-activate-form"' in html
    assert '<span class="badge done">complete</span>' in html
    response = transition(client, site, "active")
    assert response.status_code == 302
    site.refresh_from_db()
    assert (site.status, site.activated_on) == ("active", timezone.localdate())


def test_a_refused_site_transition_shows_the_rule(crm, second_site, client):
    client.force_login(crm)
    response = transition(client, second_site, "initiated")
    assert response.status_code == 200
    assert "A site cannot go from Identified to Initiated; allowed: Qualified, Closed." in (
        html_of(response))
    second_site.refresh_from_db()
    assert second_site.status == "identified"


def test_the_cra_sees_the_checklist_but_cannot_move_the_site(site, cra, client):
    site = initiated(site, documents=True)
    client.force_login(cra)
    html = html_of(client.get(page(site)))
    assert 'id="site-checklist"' in html
    assert 'id="site-transition-form"' not in html
    assert 'id="site-activate-form"' not in html
    assert transition(client, site, "active").status_code == 403
    site.refresh_from_db()
    assert site.status == "initiated"


def test_the_edit_form_records_planned_activation_contract_and_siv(cra, site, client):
    client.force_login(cra)
    response = client.post(reverse("sites:edit", args=[site.pk]), {
        "number": "101", "institution": "Alpha", "country": "de", "target_enrollment": 10,
        "planned_activation_on": "2026-08-01", "contract_executed_on": "2026-07-01",
        "initiation_visit_on": "2026-07-20", "status": "closed",
        "change_reason": "Dates from the site file"})
    assert response.status_code == 302
    site = Site.objects.get(pk=site.pk)
    assert str(site.planned_activation_on) == "2026-08-01"
    assert str(site.contract_executed_on) == "2026-07-01"
    assert str(site.initiation_visit_on) == "2026-07-20"
    assert site.status == "active"  # the status moves only through the lifecycle form


# ------------------------------------------------------------------------------ documents

def test_documents_show_current_and_expired(site, cra, crm, sponsor, document, client):
    today = timezone.localdate()
    approved_document(site=site, filer=cra, approver=crm,
                      kind="medical_licence", version="7",
                      effective_on=today - timedelta(days=400),
                      expires_on=today - timedelta(days=5))
    client.force_login(sponsor)
    response = client.get(page(site))
    rows = {d.kind: d for d in response.context["documents"]}
    assert rows["delegation_log"].current
    assert not rows["delegation_log"].expired
    assert rows["medical_licence"].expired
    assert not rows["medical_licence"].current
    assert '<span class="badge overdue">expired</span>' in html_of(response)


def test_the_cra_files_and_corrects_a_document_with_a_reason(cra, site, client):
    client.force_login(cra)
    response = client.post(reverse("sites:document_create", args=[site.pk]), {
        "kind": "insurance", "version": "2026", "effective_on": "2026-01-01",
        "expires_on": "2027-01-01", "status": "received"})
    assert response.status_code == 302
    document = EssentialDocument.objects.get(site=site, kind="insurance")
    edit = reverse("sites:document_edit", args=[document.pk])
    data = {"kind": "insurance", "version": "2026b", "effective_on": "2026-01-01",
            "expires_on": "2027-01-01", "status": "received"}
    assert "A reason for the change is required." in html_of(client.post(edit, data))
    assert client.post(edit, {**data, "change_reason": "Typo"}).status_code == 302
    document.refresh_from_db()
    assert document.version == "2026b"


def test_a_document_expiring_before_it_starts_is_refused(cra, site, client):
    client.force_login(cra)
    response = client.post(reverse("sites:document_create", args=[site.pk]), {
        "kind": "insurance", "effective_on": "2026-05-01", "expires_on": "2026-04-01",
        "status": "received"})
    assert response.status_code == 200
    assert "The expiry date must be after the effective date." in html_of(response)
    assert not EssentialDocument.objects.filter(kind="insurance").exists()


# --------------------------------------------------------------------- ICF versions, subjects

def test_an_icf_version_is_recorded_at_the_site(trial, admin, cra, site, client):
    icf_2 = consent_version_create(trial=trial, by=admin, version="2.0")
    client.force_login(cra)
    url = reverse("sites:consent_version_add", args=[site.pk])
    response = client.post(url, {"consent_version": icf_2.pk, "ethics_approved_on": "2026-06-10",
                                 "effective_on": "2026-06-01"})
    assert "An ICF cannot take effect before its ethics approval." in html_of(response)
    response = client.post(url, {"consent_version": icf_2.pk, "ethics_approved_on": "2026-06-01",
                                 "effective_on": "2026-06-10"})
    assert response.status_code == 302
    assert SiteConsentVersion.objects.filter(site=site, consent_version=icf_2).exists()


def test_the_cra_screens_enrolls_and_withdraws_a_subject(cra, site, icf, client):
    today = timezone.localdate()
    client.force_login(cra)
    response = client.post(reverse("sites:subject_screen", args=[site.pk]), {
        "number": "101-002", "consent_version": icf.pk,
        "consented_on": (today - timedelta(days=3)).isoformat()})
    assert response.status_code == 302
    subject = Subject.objects.get(number="101-002")
    assert (subject.status, subject.consent_version) == ("screening", "1.0")

    url = reverse("sites:subject_transition", args=[subject.pk])
    assert client.post(url, {"to": "enrolled", "on": today.isoformat()}).status_code == 302
    response = client.post(url, {"to": "withdrawn", "on": today.isoformat()})
    assert response.status_code == 200
    assert "Give the reason for the withdrawal." in html_of(response)
    subject.refresh_from_db()
    assert subject.status == "enrolled"

    response = client.post(url, {"to": "withdrawn", "on": today.isoformat(),
                                 "withdrawal_reason": "Moved to Hamburg"})
    assert response.status_code == 302
    subject.refresh_from_db()
    assert (subject.status, subject.withdrawn_on) == ("withdrawn", today)
    assert "Hamburg" not in html_of(client.get(page(site)))  # only the number is shown


def test_a_subject_number_that_could_identify_is_refused(cra, site, icf, client):
    client.force_login(cra)
    response = client.post(reverse("sites:subject_screen", args=[site.pk]), {
        "number": "John Smith", "consent_version": icf.pk,
        "consented_on": "2026-06-01"})
    assert response.status_code == 200
    assert "Use a pseudonymous subject number" in html_of(response)
    assert not Subject.objects.filter(number="John Smith").exists()


def test_a_subject_due_for_re_consent_signs_the_new_version(
        trial, admin, site, cra, subject, client):
    today = timezone.localdate()
    icf_2 = consent_version_create(trial=trial, by=admin, version="2.0")
    site_consent_version_add(site=site, consent_version=icf_2, by=admin,
                             ethics_approved_on=today - timedelta(days=5),
                             effective_on=today - timedelta(days=2))
    client.force_login(cra)
    response = client.get(page(site))
    row = next(s for s in response.context["subjects"] if s.pk == subject.pk)
    assert row.reconsent_due
    assert [v for v, _ in row.reconsent_form.fields["consent_version"].choices] == [icf_2.pk]

    response = client.post(reverse("sites:subject_consent", args=[subject.pk]),
                           {"consent_version": icf_2.pk, "consented_on": today.isoformat()})
    assert response.status_code == 302
    record = ConsentRecord.objects.get(subject=subject, consent_version=icf_2)
    assert record.is_reconsent
    response = client.get(page(site))
    row = next(s for s in response.context["subjects"] if s.pk == subject.pk)
    assert not row.reconsent_due
    assert row.reconsent_form is None


# ----------------------------------------------------------------------------- permissions

WRITES = {
    "sites:transition": ("site", {"status": "closed", "change_reason": "x"}),
    "sites:document_create": ("site", {"kind": "insurance", "status": "received"}),
    "sites:consent_version_add": ("site", {}),
    "sites:subject_screen": ("site", {"number": "X-1"}),
    "sites:subject_transition": ("subject", {"to": "completed", "on": "2026-06-01"}),
    "sites:subject_consent": ("subject", {}),
    "sites:edit": ("site", {"number": "101", "change_reason": "x"}),
    "sites:document_edit": ("document", {"kind": "insurance", "change_reason": "x"}),
}


def test_the_sponsor_sees_no_forms_and_gets_403_on_every_write(world, client):
    client.force_login(world.sponsor)
    main = main_of(client.get(page(world.site_a1)))
    assert "<form" not in main
    assert 'id="site-checklist"' in main
    assert "101-001" in main
    targets = {"site": world.site_a1, "subject": world.subject_a1, "document": world.document_a1}
    for name, (target, data) in WRITES.items():
        response = client.post(reverse(name, args=[targets[target].pk]), data)
        assert response.status_code == 403, name
    world.site_a1.refresh_from_db()
    assert world.site_a1.status == "active"


@pytest.mark.parametrize("persona", ["crm", "cra"])
def test_sites_outside_ones_scope_are_404(world, client, persona):
    client.force_login(getattr(world, persona))
    out_of_scope = {"site": world.site_b1, "subject": world.subject_b1}
    if persona == "cra":
        out_of_scope = {"site": world.site_a2, "subject": world.subject_a2}
    assert client.get(page(out_of_scope["site"])).status_code == 404
    for name, (target, data) in WRITES.items():
        if target in out_of_scope:
            response = client.post(reverse(name, args=[out_of_scope[target].pk]), data)
            assert response.status_code == 404, name


# --------------------------------------------------------------------------- bounded queries

def grow_site(world, n: int) -> None:
    today = timezone.localdate()
    for i in range(n):
        document_create(site=world.site_a1, by=world.admin, kind="other", title=f"Note {i}",
                        version=str(i), effective_on=today - timedelta(days=i + 1),
                        status="received")
        subject_create(site=world.site_a1, by=world.admin, number=f"101-{100 + i}",
                       status=("screening", "enrolled")[i % 2],
                       enrolled_on=today - timedelta(days=i) if i % 2 else None)


def test_the_site_page_runs_the_same_queries_for_1_or_50_subjects(world, client):
    client.force_login(world.crm)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(page(world.site_a1)).status_code == 200
        return len(ctx.captured_queries)

    small = queries()
    grow_site(world, 50)
    assert queries() == small
