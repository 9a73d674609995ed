"""A site is activated only after its contract is executed and its SIV held: dates in order,
by every door."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from croportal.exceptions import ApplicationError
from sites.models import Site
from sites.services import site_update
from tests.admin_forms import admin_form_data
from tests.conftest import api_as
from tests.factories import SiteFactory


@pytest.fixture
def site(trial):
    return SiteFactory(trial=trial, activated=True)


@pytest.fixture
def second_site(trial):
    return SiteFactory(trial=trial)


def later_than_activation(site: Site) -> str:
    return (site.activated_on + timedelta(days=1)).isoformat()


def test_the_service_refuses_a_contract_dated_after_activation(site, crm):
    with pytest.raises(ApplicationError) as refused:
        site_update(site=site, by=crm, reason="Late contract",
                    contract_executed_on=site.activated_on + timedelta(days=1))
    assert refused.value.field == "contract_executed_on"
    assert Site.objects.get(pk=site.pk).contract_executed_on == site.contract_executed_on


def test_the_api_refuses_an_siv_after_activation(site, crm):
    response = api_as(crm).patch(f"/api/v1/sites/{site.pk}/", {
        "initiation_visit_on": later_than_activation(site), "change_reason": "Moved"},
        format="json")
    assert response.status_code == 400
    assert "initiation_visit_on" in response.json()


def test_a_future_siv_is_refused(crm, second_site):
    response = api_as(crm).patch(f"/api/v1/sites/{second_site.pk}/", {
        "initiation_visit_on": (timezone.localdate() + timedelta(days=3)).isoformat(),
        "change_reason": "Planned"}, format="json")
    assert response.status_code == 400
    assert "initiation_visit_on" in response.json()


def test_the_page_form_shows_the_refusal(site, crm, client):
    client.force_login(crm)
    url = reverse("sites:edit", args=[site.pk])
    form = client.get(url).context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    data.update(contract_executed_on=later_than_activation(site), change_reason="Late")
    response = client.post(url, data)
    assert response.status_code == 200
    assert "cannot be dated after the site" in response.content.decode()
    assert Site.objects.get(pk=site.pk).contract_executed_on == site.contract_executed_on


def test_the_admin_shows_the_refusal_and_saves_nothing(site, admin, client):
    client.force_login(admin)
    url = reverse("admin:sites_site_change", args=[site.pk])
    data = admin_form_data(client, url, initiation_visit_on=later_than_activation(site),
                           change_reason="Late")
    response = client.post(url, data, follow=True)
    assert "cannot be dated after the site" in response.content.decode()
    assert Site.objects.get(pk=site.pk).initiation_visit_on == site.initiation_visit_on
