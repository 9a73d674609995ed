"""Four eyes on essential documents: whoever filed one cannot approve it; approval is the
trial's CRM's, with who and when recorded — by every door."""

import pytest
from django.urls import reverse

from croportal.exceptions import ApplicationError
from sites.models import EssentialDocument
from sites.services import document_create, document_update
from tests.conftest import api_as
from tests.factories import SiteFactory


@pytest.fixture
def site(trial):
    return SiteFactory(trial=trial, activated=True)


@pytest.fixture
def filed(site, cra):
    return document_create(site=site, by=cra, kind="insurance", version="1",
                           effective_on=site.activated_on, status="received")


def test_the_filer_cannot_approve_their_own_document(site, crm, filed):
    crm_filed = document_create(site=site, by=crm, kind="investigator_cv",
                                version="1", effective_on=site.activated_on)
    with pytest.raises(ApplicationError) as refused:
        document_update(document=crm_filed, by=crm, reason="Mine", status="approved")
    assert refused.value.status == 403
    assert EssentialDocument.objects.get(pk=crm_filed.pk).status == "received"


def test_a_cra_cannot_approve_through_the_api(cra, filed):
    response = api_as(cra).patch(f"/api/v1/essential-documents/{filed.pk}/",
                                 {"status": "approved", "change_reason": "OK"},
                                 format="json")
    assert response.status_code == 403
    assert EssentialDocument.objects.get(pk=filed.pk).status == "received"


def test_filing_as_approved_is_refused(crm, site):
    response = api_as(crm).post("/api/v1/essential-documents/", {
        "site": site.pk, "kind": "insurance", "effective_on": "2026-01-01",
        "status": "approved"}, format="json")
    assert response.status_code == 400
    assert "status" in response.json()
    assert not EssentialDocument.objects.filter(kind="insurance").exists()


def test_the_crm_approves_and_who_and_when_are_recorded(crm, cra, filed):
    response = api_as(crm).patch(f"/api/v1/essential-documents/{filed.pk}/",
                                 {"status": "approved", "change_reason": "Checked"},
                                 format="json")
    assert response.status_code == 200
    document = EssentialDocument.objects.get(pk=filed.pk)
    assert (document.status, document.filed_by, document.reviewed_by) == (
        "approved", cra, crm)
    assert document.reviewed_at is not None
    assert document.history.first().reviewed_by_id == crm.pk  # in the audit trail too


def test_the_edit_page_refuses_the_filer(cra, filed, client):
    client.force_login(cra)
    url = reverse("sites:document_edit", args=[filed.pk])
    response = client.post(url, {"kind": "insurance", "version": "1", "status": "approved",
                                 "effective_on": filed.effective_on.isoformat(),
                                 "change_reason": "Self-approve"})
    assert response.status_code == 200
    assert "approves or rejects" in response.content.decode()
    assert EssentialDocument.objects.get(pk=filed.pk).status == "received"


def test_the_admin_cannot_change_documents(admin, filed, client):
    client.force_login(admin)
    url = reverse("admin:sites_essentialdocument_change", args=[filed.pk])
    assert client.post(url, {"status": "approved"}).status_code == 403
    assert EssentialDocument.objects.get(pk=filed.pk).status == "received"
