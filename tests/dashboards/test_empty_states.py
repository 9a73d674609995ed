"""A table or list with no rows says what that means and what to do next, pointing to the way
to add one only to those who may (issue 12). The lists of croportal.lists (deadlines,
notifications, training, a trial's staff) carry their own `empty_text` and `empty_hint`."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory, assigned, sponsor_viewer_of


def page(user, url: str) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def sponsor(trial):
    return sponsor_viewer_of(trial)


def test_an_empty_trial_tells_its_crm_what_to_add(crm, trial):
    html = page(crm, reverse("trials:detail", args=[trial.pk]))
    assert "No milestones yet. Add the planned FPI and LPI" in html
    assert "No amendments yet. Record one below" in html
    assert "No ICF versions yet. Record the first below" in html


def test_a_read_only_reader_is_not_told_to_add_what_they_cannot(sponsor, trial):
    html = page(sponsor, reverse("trials:detail", args=[trial.pk]))
    assert "No milestones yet." in html
    assert "Add the planned FPI" not in html
    assert "Record one below" not in html


def test_an_empty_site_tells_its_cra_to_file_and_screen(cra, site):
    html = page(cra, reverse("sites:detail", args=[site.pk]))
    assert "No documents filed yet. File the first under “File a document” below." in html
    assert "No subjects yet." in html


def test_a_portal_without_cras_says_who_assigns_them(admin, trial):
    workload = page(admin, reverse("staffing:workload"))
    assert "No CRA has an active assignment. A trial's CRM assigns CRAs" in workload


def test_a_cra_without_sites_is_told_who_assigns_them(trial):
    newcomer = UserFactory()
    assigned(newcomer, trial, "CRA")  # on a trial that has no site yet
    html = page(newcomer, reverse("dashboards:home"))
    assert "No site is assigned to you yet: the trial's CRM assigns CRAs to sites" in html
