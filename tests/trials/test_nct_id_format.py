"""An NCT ID is NCT and eight digits, at every door (service, API, page form, and the database
itself); it is stored upper-case and trimmed."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from croportal.exceptions import ApplicationError
from tests.conftest import api_as
from trials.models import Trial
from trials.services import trial_update


@pytest.mark.parametrize("bad", ["NCT1234567", "NCT123456789", "ABC01234567", "NCT0123456X",
                                 "NCT" + "\u0660" * 8])  # Arabic-Indic digits are not 0-9
def test_a_malformed_nct_id_is_refused_by_the_service(trial, crm, bad):
    with pytest.raises(ApplicationError) as refused:
        trial_update(trial=trial, by=crm, reason="Registered", nct_id=bad)
    assert refused.value.field == "nct_id"
    assert Trial.objects.get(pk=trial.pk).nct_id == ""


def test_an_nct_id_is_stored_upper_case_and_trimmed(trial, crm):
    trial_update(trial=trial, by=crm, reason="Registered", nct_id=" nct01234567 ")
    assert Trial.objects.get(pk=trial.pk).nct_id == "NCT01234567"


def test_the_api_and_the_page_say_which_field(trial, crm, client):
    response = api_as(crm).patch(f"/api/v1/trials/{trial.pk}/",
                                 {"nct_id": "NCT123", "change_reason": "Registered"},
                                 format="json")
    assert response.status_code == 400
    assert "nct_id" in response.json()
    client.force_login(crm)
    page = client.get(reverse("trials:edit", args=[trial.pk]))
    form = page.context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update({"sponsor": trial.sponsor_id, "nct_id": "NCT123", "change_reason": "Registered",
                 "revision": trial.revision})
    response = client.post(reverse("trials:edit", args=[trial.pk]), data)
    assert response.status_code in (200, 400)
    assert "NCT followed by 8 digits" in response.content.decode()
    assert Trial.objects.get(pk=trial.pk).nct_id == ""


def test_the_database_refuses_a_malformed_nct_id(trial):
    with pytest.raises(IntegrityError), transaction.atomic():
        Trial.objects.filter(pk=trial.pk).update(nct_id="NCT1")
