"""Four eyes on essential documents: whoever filed one cannot approve it; approval is the
trial's CRM's, with who and when recorded — by every door."""

import pytest
from django.urls import reverse

from croportal.exceptions import ApplicationError
from sites.models import EssentialDocument
from sites.services import document_create, document_update
from tests.conftest import api_as


@pytest.fixture
def filed(world):
    return document_create(site=world.site_a1, by=world.cra, kind="insurance", version="1",
                           effective_on=world.site_a1.activated_on, status="received")


def test_the_filer_cannot_approve_their_own_document(world, filed):
    crm_filed = document_create(site=world.site_a1, by=world.crm, kind="investigator_cv",
                                version="1", effective_on=world.site_a1.activated_on)
    with pytest.raises(ApplicationError) as refused:
        document_update(document=crm_filed, by=world.crm, reason="Mine", status="approved")
    assert refused.value.status == 403
    assert EssentialDocument.objects.get(pk=crm_filed.pk).status == "received"


def test_a_cra_cannot_approve_through_the_api(world, filed):
    response = api_as(world.cra).patch(f"/api/v1/essential-documents/{filed.pk}/",
                                       {"status": "approved", "change_reason": "OK"},
                                       format="json")
    assert response.status_code == 403
    assert EssentialDocument.objects.get(pk=filed.pk).status == "received"


def test_filing_as_approved_is_refused(world):
    response = api_as(world.crm).post("/api/v1/essential-documents/", {
        "site": world.site_a1.pk, "kind": "insurance", "effective_on": "2026-01-01",
        "status": "approved"}, format="json")
    assert response.status_code == 400
    assert "status" in response.json()
    assert not EssentialDocument.objects.filter(kind="insurance").exists()


def test_the_crm_approves_and_who_and_when_are_recorded(world, filed):
    response = api_as(world.crm).patch(f"/api/v1/essential-documents/{filed.pk}/",
                                       {"status": "approved", "change_reason": "Checked"},
                                       format="json")
    assert response.status_code == 200
    document = EssentialDocument.objects.get(pk=filed.pk)
    assert (document.status, document.filed_by, document.reviewed_by) == (
        "approved", world.cra, world.crm)
    assert document.reviewed_at is not None
    assert document.history.first().reviewed_by_id == world.crm.pk  # in the audit trail too


def test_the_edit_page_refuses_the_filer(world, filed, client):
    client.force_login(world.cra)
    url = reverse("sites:document_edit", args=[filed.pk])
    response = client.post(url, {"kind": "insurance", "version": "1", "status": "approved",
                                 "effective_on": filed.effective_on.isoformat(),
                                 "change_reason": "Self-approve"})
    assert response.status_code == 200
    assert "approves or rejects" in response.content.decode()
    assert EssentialDocument.objects.get(pk=filed.pk).status == "received"


def test_the_admin_cannot_change_documents(world, filed, client):
    client.force_login(world.admin)
    url = reverse("admin:sites_essentialdocument_change", args=[filed.pk])
    assert client.post(url, {"status": "approved"}).status_code == 403
    assert EssentialDocument.objects.get(pk=filed.pk).status == "received"
